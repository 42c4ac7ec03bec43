/**
 * The dashboard's token: taken from `?token=` once (the embedded mode prints such a link), kept in
 * sessionStorage, and removed from the address bar so it is not shared with a screenshot or a
 * bookmark.
 */
export function takeToken(): string | undefined {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem('fleetwire.token', fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.toString());
    return fromUrl;
  }
  return sessionStorage.getItem('fleetwire.token') ?? undefined;
}

export function webSocketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/ws`;
}
