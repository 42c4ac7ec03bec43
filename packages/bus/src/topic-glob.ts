/**
 * Redis PSUBSCRIBE speaks globs, not MQTT patterns. The glob may match more than the pattern
 * (`*` spans `/`, and `a/#` becomes `a*`), never less; the receiving node filters exactly.
 */
export function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

export function globOfPattern(pattern: string): string {
  const levels = pattern.split('/');
  let glob = '';
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level === '#') return `${glob.endsWith('/') ? glob.slice(0, -1) : glob}*`;
    glob += level === '+' ? '*' : escapeGlob(level);
    if (i < levels.length - 1) glob += '/';
  }
  return glob;
}
