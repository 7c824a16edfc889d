// The part of spdy-transport (3.x, CommonJS, no types of its own) that spdy-connection.ts uses.
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';
  import type { EventEmitter } from 'node:events';

  interface Side {
    max: number;
    limit: number;
    current: number;
  }

  interface SpdyParser {
    parseKVs(buffer: unknown, callback: (err: Error | null, headers?: Record<string, string>) => void): void;
  }

  interface Protocol {
    name: string;
    parser: { create(options: unknown): SpdyParser };
    [key: string]: unknown;
  }

  export interface SpdyConnection extends EventEmitter {
    socket: Duplex;
    _spdyState: { streamWindow: { send: Side } };
    end(callback?: () => void): void;
    destroyStreams(err?: Error): void;
  }

  const transport: {
    protocol: Record<string, Protocol>;
    Connection: new (socket: Duplex, options: { protocol: string; isServer: boolean; windowSize?: number }) => SpdyConnection;
  };
  export default transport;
}
