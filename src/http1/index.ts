/**
 * Ficus's HTTP/1.1 message codec: pure functions and small state machines
 * over bytes, no sockets and no Ficus concepts. The connection layer drives
 * them: parse a head, decide its framing, read the body (Content-Length or
 * ChunkedDecoder), write heads and chunks. See README.md beside this file.
 */
export { absoluteAuthority, hostProblem, targetProblem } from "./authority.ts";
export { ChunkedDecoder, type ChunkedError, type ChunkedErrorCode, type ChunkedResult } from "./chunked.ts";
export { type ConnectionInfo, connectionInfo, expectation } from "./connection.ts";
export type { CodecError } from "./errors.ts";
export { countFields, fieldValue, listTokens, nameIs } from "./fields.ts";
export {
  type FramingError,
  type FramingErrorCode,
  type RequestFraming,
  type ResponseFraming,
  requestFraming,
  responseFraming,
} from "./framing.ts";
export {
  type HeadError,
  type HeadErrorCode,
  type HeadIncomplete,
  type HeadOk,
  HeadProgress,
  type HeadResult,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
} from "./head.ts";
export { type AuthorityResult, type HostError, type HostErrorCode, requestAuthority } from "./host.ts";
export { latin1 } from "./latin1.ts";
export {
  type ChunkedLimits,
  chunkedLimits,
  DEFAULT_CHUNKED_LIMITS,
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  headLimits,
  MAX_HEAD_BYTES,
} from "./limits.ts";
export {
  CRLF,
  chunk,
  chunkHeader,
  LAST_CHUNK,
  lastChunk,
  requestHead,
  responseHead,
  STATUS_REASONS,
  type Wire,
  wireBytes,
} from "./serialize.ts";
export { intervalScheduler, type TickScheduler, Timer, TimerWheel, type TimerWheelOptions } from "./timers.ts";
export { type Http1Server, listen, type ServerName, type ServerOptions, type ServerRequest, type ServerResponse } from "./server.ts";
export {
  ClientError,
  type ClientErrorCode,
  type ClientExchange,
  type ClientRequest,
  type ClientResponse,
  ConnectionPool,
  type PoolOptions,
} from "./client.ts";
