/**
 * Which device names a volume may be attached as, checked by the core before any operation is written: the
 * forms both EC2 and OpenStack take for a data volume on a Linux guest, so a name accepted here is one every
 * provider accepts, and nothing else (a path such as `../../../etc/passwd`) reaches an adapter.
 *
 * Allowed: `/dev/sd[b-z]`, `/dev/xvd[b-z]`, `/dev/vd[b-z]`, and EC2's two-letter `/dev/xvd[b-c][a-z]` for
 * more than 25 volumes. Refused: the first disk of each family (`/dev/sda`, `/dev/xvda`, `/dev/vda`: the root
 * device), partitions (`/dev/sdf1`), and anything outside `/dev`.
 * Sources: EC2 User Guide, "Device names for volumes on Amazon EC2 instances" (recommended /dev/sd[f-p],
 * possible /dev/sd[b-z] and /dev/xvd[b-z], /dev/xvd[b-c][a-z]; /dev/sda1 and /dev/xvda are reserved for the
 * root); nova's block device names (`(x?v|s)d` + a letter after /dev/; the hypervisor may pick another
 * letter, but the name must have that form).
 */
import { invalid } from './errors.js';

const DEVICE = /^\/dev\/(?:(?:sd|xvd|vd)[b-z]|xvd[b-c][a-z])$/;
const ROOT = /^\/dev\/(?:sd|xvd|vd)a\d*$/;

export const DEVICE_RULE = '/dev/sd[b-z], /dev/xvd[b-z], /dev/vd[b-z] or /dev/xvd[b-c][a-z]';

/** Throws `invalid_input` naming `field` unless `device` is a data volume's device name; answers it. */
export function checkDeviceName(device: unknown, field: string): string {
  if (typeof device !== 'string') throw invalid(field, `must be a device name: ${DEVICE_RULE}`);
  if (DEVICE.test(device)) return device;
  // Never echo the value itself: it may be anything, of any length.
  if (ROOT.test(device)) throw invalid(field, `is the root device; a volume attaches as ${DEVICE_RULE}`);
  throw invalid(field, `is not a device name a volume can attach as; use ${DEVICE_RULE}`);
}
