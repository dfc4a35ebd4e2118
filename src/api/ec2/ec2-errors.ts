/** EC2's error dialect: AWS error codes with their HTTP statuses, and the map from skygate's taxonomy onto them. */
import { toSkygateError } from '../../core/index.js';

/** An error as EC2 answers it: `<Response><Errors><Error><Code/><Message/></Error></Errors>…`. */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'Ec2Error';
  }
}

/** The resource kinds the front names in its NotFound and Malformed codes. */
export type Ec2ResourceKind = 'instance' | 'image' | 'snapshot' | 'volume' | 'vpc' | 'subnet' | 'security-group';

const NOT_FOUND: Record<Ec2ResourceKind, string> = {
  instance: 'InvalidInstanceID.NotFound',
  image: 'InvalidAMIID.NotFound',
  snapshot: 'InvalidSnapshot.NotFound',
  volume: 'InvalidVolume.NotFound',
  vpc: 'InvalidVpcID.NotFound',
  subnet: 'InvalidSubnetID.NotFound',
  'security-group': 'InvalidGroup.NotFound',
};

const MALFORMED: Record<Ec2ResourceKind, string> = {
  instance: 'InvalidInstanceID.Malformed',
  image: 'InvalidAMIID.Malformed',
  snapshot: 'InvalidSnapshotID.Malformed',
  volume: 'InvalidVolumeID.Malformed',
  vpc: 'InvalidVpcID.Malformed',
  subnet: 'InvalidSubnetID.Malformed',
  'security-group': 'InvalidGroupId.Malformed',
};

const NOUN: Record<Ec2ResourceKind, string> = {
  instance: 'instance ID',
  image: 'image id',
  snapshot: 'snapshot',
  volume: 'volume',
  vpc: 'vpc ID',
  subnet: 'subnet ID',
  'security-group': 'security group',
};

export const ec2Errors = {
  missingParameter: (name: string) => new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`),
  invalidValue: (name: string, value: string, reason: string) =>
    new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${name} is invalid. ${reason}`),
  combination: (message: string) => new Ec2Error('InvalidParameterCombination', message),
  unknownParameter: (name: string) => new Ec2Error('UnknownParameter', `The parameter ${name} is not recognized`),
  invalidFilter: (message: string) => new Ec2Error('InvalidFilter', message),
  notFound: (kind: Ec2ResourceKind, ids: string[]) =>
    new Ec2Error(
      NOT_FOUND[kind],
      `The ${NOUN[kind]}${ids.length > 1 ? 's' : ''} '${ids.join(', ')}' ${ids.length > 1 ? 'do' : 'does'} not exist`,
    ),
  malformed: (kind: Ec2ResourceKind, id: string) => new Ec2Error(MALFORMED[kind], `Invalid id: "${id}"`),
  /** An AMI id skygate issued whose image is gone: EC2's answer outside DescribeImages (see images.ts). */
  deregistered: (id: string) =>
    new Ec2Error('InvalidAMIID.Unavailable', `The image id '[${id}]' has been deregistered and is no longer available`),
  unsupported: (message: string) => new Ec2Error('UnsupportedOperation', message),
};

/** Which resource a core not-found or conflict message is about: its messages begin with the kind. */
function kindIn(message: string): Ec2ResourceKind | undefined {
  const m = /\b(instance|image|snapshot|volume)\b/.exec(message);
  return m?.[1] as Ec2ResourceKind | undefined;
}

/** Translates anything thrown by the core into EC2's codes; an Ec2Error passes through. */
export function toEc2Error(e: unknown): Ec2Error {
  if (e instanceof Ec2Error) return e;
  const err = toSkygateError(e);
  const field = err.field ?? '';
  switch (err.code) {
    case 'invalid_input': {
      // A reference the core could not find is bad input to REST, but EC2 names the missing thing.
      const ref = /(instance|image|snapshot|volume)Id$/i.exec(field)?.[1]?.toLowerCase() as Ec2ResourceKind | undefined;
      const kind = /does not exist/.test(err.message) ? ref : undefined;
      if (kind) return new Ec2Error(NOT_FOUND[kind], err.message);
      if (ref === 'image') {
        // RunInstances from a deregistered AMI is NotFound on EC2; from one not yet (or no longer) usable, Unavailable.
        if (/\bis deleted\b/.test(err.message)) return new Ec2Error(NOT_FOUND.image, err.message);
        if (/\bis (pending|failed)\b/.test(err.message)) return new Ec2Error('InvalidAMIID.Unavailable', err.message);
      }
      return new Ec2Error('InvalidParameterValue', err.message);
    }
    case 'not_found': {
      if (/keyName|KeyName/.test(field)) return new Ec2Error('InvalidKeyPair.NotFound', err.message);
      const kind = kindIn(err.message);
      return new Ec2Error(kind ? NOT_FOUND[kind] : 'InvalidParameterValue', err.message);
    }
    case 'conflict': {
      if (field === 'disableApiTermination') return new Ec2Error('OperationNotPermitted', err.message);
      if (field === 'header.idempotency-key') return new Ec2Error('IdempotentParameterMismatch', err.message);
      if (/keyName|KeyName/.test(field)) return new Ec2Error('InvalidKeyPair.Duplicate', err.message);
      const kind = kindIn(err.message);
      // The core refuses a second image of one name at one provider, as EC2 refuses a second AMI name in a region.
      if (kind === 'image' && field === 'body.name') return new Ec2Error('InvalidAMIName.Duplicate', err.message);
      if (kind === 'volume') {
        return new Ec2Error(/in-use|attaching/.test(err.message) ? 'VolumeInUse' : 'IncorrectState', err.message);
      }
      if (kind === 'instance') return new Ec2Error('IncorrectInstanceState', err.message);
      return new Ec2Error('IncorrectState', err.message);
    }
    case 'unauthorized':
      return new Ec2Error('AuthFailure', err.message, 401);
    case 'forbidden':
      return new Ec2Error('UnauthorizedOperation', err.message, 403);
    case 'quota_exceeded': {
      const code = /volume/i.test(err.message)
        ? 'VolumeLimitExceeded'
        : /vcpu/i.test(err.message)
          ? 'VcpuLimitExceeded'
          : /instance/i.test(err.message)
            ? 'InstanceLimitExceeded'
            : 'ResourceLimitExceeded';
      return new Ec2Error(code, err.message);
    }
    case 'throttled':
      return new Ec2Error('RequestLimitExceeded', err.message, 503);
    case 'unsupported':
      return new Ec2Error('UnsupportedOperation', err.message);
    case 'provider_unavailable':
    case 'timeout':
      return new Ec2Error('Unavailable', err.message, 503);
    case 'payload_too_large':
      return new Ec2Error('RequestEntityTooLarge', err.message, 413);
    default:
      // The detail of an internal error stays in the gateway log.
      return new Ec2Error('InternalError', 'An internal error has occurred; see the gateway log', 500);
  }
}
