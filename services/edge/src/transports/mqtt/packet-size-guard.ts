/**
 * Reads only the fixed headers of the MQTT byte stream (MQTT 5.0 §2.1.1 / 3.1.1 §2.2: one type
 * byte and a Remaining Length of 1–4 variable-length bytes) and refuses a packet from its declared
 * length, before any of its body is buffered. mqtt-packet's parser has no size option: it keeps
 * appending until the declared length has arrived, so a client that declares 256 MB and drips
 * bytes would make it buffer all of them. It also counts the packets a chunk starts: the parser
 * turns a whole chunk into packet objects before the first is looked at, and one 64 KiB frame
 * holds 32,000 two-byte PINGREQs. Everything else about a packet is the parser's job.
 */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to come (skipped, not inspected). */
  private bodyLeft = 0;
  /** Header bytes seen of the packet being started: 0 = expecting the type byte. */
  private headerBytes = 0;
  private length = 0;
  private multiplier = 1;

  constructor(
    private readonly maxPacketBytes: number,
    /** Packets one chunk (a WebSocket frame) may start. */
    private readonly maxPacketsPerChunk = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * Follows `chunk`; returns a reason when a packet is over the limit, its length is malformed,
   * or it is one more than a chunk may start (then the connection must be closed), with
   * `before`: how many bytes of the chunk precede that packet (they may be parsed), else
   * undefined.
   */
  check(
    chunk: Uint8Array,
  ): { problem: 'too_big' | 'malformed' | 'too_many'; before: number } | undefined {
    let i = 0;
    let started = 0;
    /** Where the packet whose header is being read started in this chunk (0: an earlier one). */
    let start = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i] as number;
      i += 1;
      if (this.headerBytes === 0) {
        start = i - 1;
        started += 1;
        if (started > this.maxPacketsPerChunk) return { problem: 'too_many', before: start };
        this.headerBytes = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.headerBytes += 1;
      if (byte & 0x80) {
        // A fifth length byte is malformed (at most four, §2.2.3 / §1.5.5).
        if (this.headerBytes > 4) return { problem: 'malformed', before: start };
        continue;
      }
      const total = this.headerBytes + this.length;
      if (total > this.maxPacketBytes) return { problem: 'too_big', before: start };
      this.bodyLeft = this.length;
      this.headerBytes = 0;
    }
    return undefined;
  }
}
