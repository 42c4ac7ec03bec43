import { compareOffsets, parseOffset, type Offset } from '@fleetwire/bus';
import type { DeliveryMessage, GapMessage } from '@fleetwire/protocol';

type Sent = DeliveryMessage | GapMessage;

/** `<epoch>:<offset>` as sent in message.pos. */
export function splitPosition(
  pos: string,
): { epoch: string; offset: string; at: Offset } | undefined {
  const cut = pos.indexOf(':');
  const at = parseOffset(pos.slice(cut + 1));
  return cut > 0 && at ? { epoch: pos.slice(0, cut), offset: pos.slice(cut + 1), at } : undefined;
}

/**
 * What a recovered subscription is sent, in position order: the missed messages history had,
 * and those held meanwhile that it did not (matched by position, so nothing twice). A held
 * message can be older than the last one read: its topic was quiet until the read had listed the
 * topics to read, and it published before the read itself. Messages from another epoch, and
 * notices without a position, come after every message read, in their place among the held ones.
 */
export function recoveredInOrder(
  missed: Sent[],
  held: Sent[],
  epoch: string,
  since: Offset,
): Sent[] {
  const read = new Set(missed.map((m) => m.pos));
  const atOf = (m: Sent): Offset | undefined => {
    const at = m.pos === undefined ? undefined : splitPosition(m.pos);
    return at?.epoch === epoch ? at.at : undefined;
  };
  const unread = held.filter((m) => {
    const at = atOf(m);
    if (at === undefined) return true;
    return compareOffsets(at, since) > 0 && !read.has(m.pos);
  });
  const out: Sent[] = [];
  let i = 0;
  for (const message of unread) {
    const at = atOf(message);
    // What has no place among the read ones comes after all of them, as it came.
    while (
      i < missed.length &&
      (at === undefined || compareOffsets(atOf(missed[i] as Sent) as Offset, at) < 0)
    ) {
      out.push(missed[i] as Sent);
      i += 1;
    }
    out.push(message);
  }
  for (; i < missed.length; i++) out.push(missed[i] as Sent);
  return out;
}
