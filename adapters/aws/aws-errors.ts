/** AWS SDK errors mapped onto skygate's taxonomy: EC2's error codes, the codes every AWS Query API shares, and HTTP fallbacks. */
import { type ErrorCode, SkygateError, isSkygateError } from '../../src/core/index.js';

/** Codes every AWS Query API answers (EC2, ELBv2, ...): credentials, permissions, throttling, validation. */
export const COMMON_AWS_ERRORS: Readonly<Record<string, ErrorCode>> = {
  AuthFailure: 'unauthorized',
  IncompleteSignature: 'unauthorized',
  InvalidClientTokenId: 'unauthorized',
  MissingAuthenticationToken: 'unauthorized',
  SignatureDoesNotMatch: 'unauthorized',
  RequestExpired: 'unauthorized',
  ExpiredToken: 'unauthorized',
  ExpiredTokenException: 'unauthorized',
  UnrecognizedClientException: 'unauthorized',
  UnauthorizedOperation: 'forbidden',
  AccessDenied: 'forbidden',
  AccessDeniedException: 'forbidden',
  Blocked: 'forbidden',
  OptInRequired: 'forbidden',
  PendingVerification: 'forbidden',
  RequestLimitExceeded: 'throttled',
  Throttling: 'throttled',
  ThrottlingException: 'throttled',
  TooManyRequestsException: 'throttled',
  InternalError: 'provider_unavailable',
  InternalFailure: 'provider_unavailable',
  ServiceUnavailable: 'provider_unavailable',
  Unavailable: 'provider_unavailable',
  InvalidParameter: 'invalid_input',
  InvalidParameterValue: 'invalid_input',
  InvalidParameterCombination: 'invalid_input',
  InvalidQueryParameter: 'invalid_input',
  MalformedQueryString: 'invalid_input',
  MissingParameter: 'invalid_input',
  UnknownParameter: 'invalid_input',
  ValidationError: 'invalid_input',
  InvalidAction: 'unsupported',
};

/**
 * EC2's own codes (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html) for the calls this
 * adapter makes. Every `*.NotFound` is not_found and every `*.Malformed` invalid_input without a line here.
 */
export const EC2_ERRORS: Readonly<Record<string, ErrorCode>> = {
  ...COMMON_AWS_ERRORS,
  // The two below refuse an action for the state a resource is in, which is what conflict means here.
  IncorrectInstanceState: 'conflict',
  IncorrectState: 'conflict',
  VolumeInUse: 'conflict',
  DependencyViolation: 'conflict',
  IdempotentParameterMismatch: 'conflict',
  IdempotentInstanceTerminated: 'conflict',
  'InvalidAMIName.Duplicate': 'conflict',
  'InvalidAMIID.Unavailable': 'conflict',
  'InvalidSnapshot.InUse': 'conflict',
  'InvalidVolume.ZoneMismatch': 'invalid_input',
  InvalidAvailabilityZone: 'invalid_input',
  InvalidBlockDeviceMapping: 'invalid_input',
  InvalidCharacter: 'invalid_input',
  InvalidClientToken: 'invalid_input',
  InvalidFilter: 'invalid_input',
  InvalidPaginationToken: 'invalid_input',
  FilterLimitExceeded: 'invalid_input',
  InstanceLimitExceeded: 'quota_exceeded',
  VcpuLimitExceeded: 'quota_exceeded',
  VolumeLimitExceeded: 'quota_exceeded',
  SnapshotLimitExceeded: 'quota_exceeded',
  AttachmentLimitExceeded: 'quota_exceeded',
  TagLimitExceeded: 'quota_exceeded',
  ResourceLimitExceeded: 'quota_exceeded',
  MaxIOPSLimitExceeded: 'quota_exceeded',
  // Waiting is the documented remedy for these, which makes them throttling in all but name.
  ConcurrentSnapshotLimitExceeded: 'throttled',
  ConcurrentCreateImageNoRebootLimitExceeded: 'throttled',
  SnapshotCreationPerVolumeRateExceeded: 'throttled',
  ConcurrentTagAccess: 'throttled',
  // Out of capacity in a zone is the provider's condition, and it passes.
  InsufficientInstanceCapacity: 'provider_unavailable',
  InsufficientVolumeCapacity: 'provider_unavailable',
  InsufficientAddressCapacity: 'provider_unavailable',
  ServerInternal: 'provider_unavailable',
  Unsupported: 'unsupported',
  UnsupportedOperation: 'unsupported',
  UnsupportedInstanceAttribute: 'unsupported',
};

/** Seconds to wait after a throttled call when the answer carries no Retry-After header (EC2 sends none). */
export const DEFAULT_THROTTLE_RETRY_AFTER_S = 1;

export interface AwsErrorContext {
  provider: string;
  /** The code table of the service that answered. */
  codes: Readonly<Record<string, ErrorCode>>;
  /**
   * Codes (or code prefixes before the first dot) that name an input of the call: for a create, an unknown
   * image is bad input naming `imageId` rather than a missing resource.
   */
  fields?: Readonly<Record<string, string>>;
}

interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
}

/** Node's socket-level failures: the provider could not be reached at all. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/**
 * Maps anything an AWS SDK call threw into a SkygateError that keeps the provider's request id and says
 * whether (and when) to retry. Bodies that are not AWS XML (an HTML 502 from a proxy) fall back on the
 * HTTP status.
 */
export function fromAwsError(e: unknown, ctx: AwsErrorContext): SkygateError {
  if (isSkygateError(e)) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as SdkErrorLike;
  const status = err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
  const headers = err.$response?.headers ?? {};
  const requestId = err.$metadata?.requestId ?? headers['x-amzn-requestid'] ?? headers['x-amz-request-id'];
  const retryAfterHeader = Number(headers['retry-after']);
  const retryAfter = Number.isFinite(retryAfterHeader) && retryAfterHeader >= 0 ? retryAfterHeader : undefined;
  const name = typeof err.name === 'string' ? err.name : '';
  const text = e instanceof Error ? e.message : String(e);
  // A service error has its code as the name and a fault; anything else is transport or parsing.
  const awsCode = typeof err.$fault === 'string' && name !== '' && name !== 'Error' ? name : undefined;

  let code: ErrorCode;
  let field: string | undefined;
  if (awsCode !== undefined) {
    const mapped = codeOf(awsCode, ctx.codes) ?? (err.$retryable?.throttling ? 'throttled' : undefined);
    code = mapped ?? fromStatus(status) ?? (err.$fault === 'server' ? 'provider_unavailable' : 'invalid_input');
    field = fieldOf(awsCode, ctx.fields);
    // A reference in the request that does not resolve is the caller's mistake, not a missing target.
    if (field !== undefined && code === 'not_found') code = 'invalid_input';
  } else if (status !== undefined) {
    code = fromStatus(status) ?? 'internal';
  } else if (name === 'TimeoutError' || err.code === 'ETIMEDOUT') {
    code = 'timeout';
  } else if (typeof err.code === 'string' && NETWORK_CODES.has(err.code)) {
    code = 'provider_unavailable';
  } else {
    code = 'internal';
  }

  const what = awsCode ?? (status !== undefined ? `HTTP ${status}` : typeof err.code === 'string' ? err.code : name || 'error');
  const message =
    awsCode === undefined && status !== undefined ? 'the provider answered with a body that is not an AWS response' : text;
  return new SkygateError(code, `${ctx.provider}: ${what}: ${message}`, {
    provider: ctx.provider,
    ...(field !== undefined && { field }),
    ...(requestId !== undefined && { requestId }),
    ...(code === 'throttled' && { retryAfter: retryAfter ?? DEFAULT_THROTTLE_RETRY_AFTER_S }),
    ...(code === 'provider_unavailable' && retryAfter !== undefined && { retryAfter }),
    cause: e,
  });
}

function codeOf(awsCode: string, codes: Readonly<Record<string, ErrorCode>>): ErrorCode | undefined {
  // EC2 documents `Client.` / `Server.` prefixed forms of its codes too.
  const bare = awsCode.replace(/^(Client|Server)\./, '');
  const direct = codes[bare];
  if (direct !== undefined) return direct;
  if (bare.endsWith('.NotFound') || bare.endsWith('NotFound')) return 'not_found';
  if (bare.endsWith('.Malformed')) return 'invalid_input';
  if (bare.endsWith('LimitExceeded')) return 'quota_exceeded';
  return undefined;
}

function fieldOf(awsCode: string, fields: Readonly<Record<string, string>> | undefined): string | undefined {
  if (fields === undefined) return undefined;
  // The SDK names modeled errors `<Code>Exception`; the wire code is the part before.
  const code = awsCode.replace(/Exception$/, '');
  return fields[code] ?? fields[code.split('.')[0] ?? ''];
}

function fromStatus(status: number | undefined): ErrorCode | undefined {
  if (status === undefined) return undefined;
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'throttled';
  if (status === 501) return 'unsupported';
  if (status === 504) return 'timeout';
  if (status >= 500) return 'provider_unavailable';
  if (status >= 400) return 'invalid_input';
  return undefined;
}
