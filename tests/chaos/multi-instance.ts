import type { PrivateCluster } from './support/cluster.js';
import type { ScenarioResult } from './support/util.js';
export async function multiInstance(_cluster: PrivateCluster, _opts: { quick: boolean; random: () => number }): Promise<ScenarioResult> {
  throw new Error('todo');
}
