export const unsubscribePath = (token: string) => `/unsubscribe/${encodeURIComponent(token)}`;
