/**
 * Log lines to stdout, gathered per turn of the event loop and written together. Node writes to a pipe
 * or file synchronously, one system call per write; under load that was a system call per request.
 * Whatever is still gathered is written when the process exits (synchronously, for a pipe or a file).
 */
export function stdoutLines(): (line: string) => void {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    process.stdout.write(text);
  };
  process.on('exit', flush);
  return (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
}
