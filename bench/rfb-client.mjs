// A minimal RFB (VNC) client for the desktop benchmark: protocol 3.8, security type None (what libvirt's
// loopback VNC listener offers), raw encoding only, over any Duplex (a TCP socket, or a WebSocket
// through ws's createWebSocketStream). Written here because no well-kept Node RFB client is on npm; the
// handshake with security None is a few lines (RFC 6143 sections 7.1-7.3).

/** Reads exact byte counts from a stream. */
class Reader {
  constructor(stream) {
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.closed = false;
    stream.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    stream.on('close', () => {
      this.closed = true;
      this.wake();
    });
    stream.on('error', () => undefined);
  }

  wake() {
    while (this.waiters.length > 0) {
      const w = this.waiters[0];
      if (this.buf.length >= w.n) {
        this.waiters.shift();
        const out = this.buf.subarray(0, w.n);
        this.buf = this.buf.subarray(w.n);
        w.resolve(out);
      } else if (this.closed) {
        this.waiters.shift().reject(new Error('rfb connection closed'));
      } else return;
    }
  }

  read(n) {
    return new Promise((resolve, reject) => {
      this.waiters.push({ n, resolve, reject });
      this.wake();
    });
  }
}

/** An RFB session: handshake done, framebuffer size known. */
export class RfbClient {
  constructor(stream) {
    this.stream = stream;
    this.reader = new Reader(stream);
    this.bytes = 0;
    stream.on('data', (d) => (this.bytes += d.length));
  }

  /** Version, security None, ClientInit (shared), ServerInit, raw encoding only. */
  async handshake() {
    const version = (await this.reader.read(12)).toString('latin1');
    if (!version.startsWith('RFB 003.')) throw new Error(`not an rfb server: ${JSON.stringify(version)}`);
    this.stream.write(Buffer.from('RFB 003.008\n', 'latin1'));
    const n = (await this.reader.read(1))[0];
    if (n === 0) throw new Error('server refused the connection');
    const types = [...(await this.reader.read(n))];
    if (!types.includes(1)) throw new Error(`security type None not offered (${types.join(',')})`);
    this.stream.write(Buffer.from([1]));
    if ((await this.reader.read(4)).readUInt32BE(0) !== 0) throw new Error('security handshake failed');
    this.stream.write(Buffer.from([1]));
    const init = await this.reader.read(24);
    this.width = init.readUInt16BE(0);
    this.height = init.readUInt16BE(2);
    this.bpp = init[4];
    await this.reader.read(init.readUInt32BE(20));
    const enc = Buffer.alloc(8);
    enc.writeUInt8(2, 0);
    enc.writeUInt16BE(1, 2);
    enc.writeInt32BE(0, 4);
    this.stream.write(enc);
    return this;
  }

  /** Asks for an update of the whole screen (incremental: only what changed). */
  request(incremental) {
    const m = Buffer.alloc(10);
    m.writeUInt8(3, 0);
    m.writeUInt8(incremental ? 1 : 0, 1);
    m.writeUInt16BE(this.width, 6);
    m.writeUInt16BE(this.height, 8);
    this.stream.write(m);
  }

  /** Sends a key press and release (X keysym). */
  key(keysym) {
    for (const down of [1, 0]) {
      const m = Buffer.alloc(8);
      m.writeUInt8(4, 0);
      m.writeUInt8(down, 1);
      m.writeUInt32BE(keysym, 4);
      this.stream.write(m);
    }
  }

  /** Reads server messages until a framebuffer update; returns its changed area in pixels. */
  async nextUpdate() {
    for (;;) {
      const type = (await this.reader.read(1))[0];
      if (type === 0) {
        const rects = (await this.reader.read(3)).readUInt16BE(1);
        let area = 0;
        for (let i = 0; i < rects; i++) {
          const h = await this.reader.read(12);
          const w = h.readUInt16BE(4);
          const ht = h.readUInt16BE(6);
          const encoding = h.readInt32BE(8);
          if (encoding === 0) await this.reader.read(w * ht * (this.bpp / 8));
          else if (encoding === -223) {
            this.width = w;
            this.height = ht;
          } else throw new Error(`unexpected encoding ${encoding}`);
          area += w * ht;
        }
        return area;
      }
      if (type === 1) {
        const h = await this.reader.read(5);
        await this.reader.read(h.readUInt16BE(3) * 6);
      } else if (type === 2) continue;
      else if (type === 3) {
        const h = await this.reader.read(7);
        await this.reader.read(h.readUInt32BE(3));
      } else throw new Error(`unexpected server message ${type}`);
    }
  }

  close() {
    this.stream.destroy();
  }
}
