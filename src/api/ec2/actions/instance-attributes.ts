/** DescribeInstanceAttribute and ModifyInstanceAttribute over the core's instance attributes. */
import { DEFAULT_INSTANCE_ATTRIBUTES, type ModifiableAttributes } from '../../../core/services/instance-attributes.js';
import { type ActionTable, defineAction } from '../context.js';
import { ec2Errors } from '../ec2-errors.js';
import type { XmlValue } from '../xml-render.js';
import { ALL, fetchResource, nativeOf, resolveIds } from './common.js';

const BOOLEAN = new Set(['disableApiTermination', 'sourceDestCheck', 'ebsOptimized']);
/** Attributes EC2 has that skygate cannot change, since no provider port offers it (a resize, a kernel swap...). */
const FIXED = new Set([
  'instanceType',
  'kernel',
  'ramdisk',
  'sriovNetSupport',
  'enaSupport',
  'blockDeviceMapping',
  'disableApiStop',
]);
/** ModifyInstanceAttribute's `X.Value` structures, by attribute. */
const STRUCTS: Record<string, string> = {
  SourceDestCheck: 'sourceDestCheck',
  DisableApiTermination: 'disableApiTermination',
  EbsOptimized: 'ebsOptimized',
  InstanceInitiatedShutdownBehavior: 'instanceInitiatedShutdownBehavior',
  UserData: 'userData',
  InstanceType: 'instanceType',
  Kernel: 'kernel',
  Ramdisk: 'ramdisk',
  SriovNetSupport: 'sriovNetSupport',
  EnaSupport: 'enaSupport',
  DisableApiStop: 'disableApiStop',
};
const DESCRIBABLE = new Set([
  'instanceType',
  'kernel',
  'ramdisk',
  'userData',
  'disableApiTermination',
  'instanceInitiatedShutdownBehavior',
  'rootDeviceName',
  'blockDeviceMapping',
  'productCodes',
  'sourceDestCheck',
  'groupSet',
  'ebsOptimized',
  'sriovNetSupport',
  'enaSupport',
  'enclaveOptions',
  'disableApiStop',
]);

const describeInstanceAttribute = defineAction(['InstanceId', 'Attribute'], async (ctx) => {
  const ec2Id = ctx.params.requireString('InstanceId');
  const attribute = ctx.params.requireString('Attribute');
  if (!DESCRIBABLE.has(attribute)) throw ec2Errors.invalidValue('Attribute', attribute, 'Unknown attribute.');
  const instance = await fetchResource(ctx, 'instance', ec2Id);
  const attrs = { ...DEFAULT_INSTANCE_ATTRIBUTES, ...(await ctx.core.instanceAttributes.get(instance.id)) };
  const net = await ctx.core.network.defaults(ctx.region);
  const value: Record<string, () => Promise<XmlValue>> = {
    instanceType: async () => ({ value: nativeOf(instance.flavorId) }),
    kernel: async () => ({}),
    ramdisk: async () => ({}),
    userData: async () => (attrs.userData ? { value: attrs.userData } : {}),
    disableApiTermination: async () => ({ value: attrs.disableApiTermination }),
    instanceInitiatedShutdownBehavior: async () => ({ value: attrs.instanceInitiatedShutdownBehavior }),
    rootDeviceName: async () => ({ value: '/dev/xvda' }),
    blockDeviceMapping: async () => {
      const volumes = await ctx.core.inventory.list('volume', {
        providers: [ctx.region],
        where: (v) => 'attachedTo' in v && v.attachedTo === instance.id,
        limit: ALL,
      });
      return volumes.items.map((v) => ({
        deviceName: v.device,
        ebs: {
          volumeId: ctx.ids.toEc2('volume', v.id),
          status: v.state === 'in-use' ? 'attached' : v.state,
          deleteOnTermination: false,
        },
      }));
    },
    productCodes: async () => [],
    sourceDestCheck: async () => ({ value: attrs.sourceDestCheck }),
    groupSet: async () =>
      (attrs.securityGroups ?? [net.securityGroup.id]).map((id) => ({
        groupId: ctx.ids.toEc2('security-group', id),
        groupName: id === net.securityGroup.id ? net.securityGroup.name : nativeOf(id),
      })),
    ebsOptimized: async () => ({ value: attrs.ebsOptimized }),
    sriovNetSupport: async () => ({}),
    enaSupport: async () => ({ value: true }),
    enclaveOptions: async () => ({ enabled: false }),
    disableApiStop: async () => ({ value: false }),
  };
  return { instanceId: ec2Id, [attribute]: await (value[attribute] as () => Promise<XmlValue>)() };
});

/** Parses one attribute's new value from its string form. */
function parseAttributeValue(attribute: string, raw: string): ModifiableAttributes {
  if (BOOLEAN.has(attribute)) {
    const lower = raw.toLowerCase();
    if (lower !== 'true' && lower !== 'false') throw ec2Errors.invalidValue('Value', raw, 'Expecting true or false.');
    return { [attribute]: lower === 'true' };
  }
  if (attribute === 'instanceInitiatedShutdownBehavior') {
    if (raw !== 'stop' && raw !== 'terminate') throw ec2Errors.invalidValue('Value', raw, "Expecting 'stop' or 'terminate'.");
    return { instanceInitiatedShutdownBehavior: raw };
  }
  if (attribute === 'userData') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw))
      throw ec2Errors.invalidValue('UserData.Value', '(redacted)', 'User data must be base64.');
    return { userData: raw };
  }
  throw ec2Errors.invalidValue('Attribute', attribute, 'Unknown attribute.');
}

const modifyInstanceAttribute = defineAction(
  ['InstanceId', 'Attribute', 'Value', 'GroupId', ...Object.keys(STRUCTS)],
  async (ctx) => {
    const p = ctx.params;
    const ec2Id = p.requireString('InstanceId');
    // EC2 changes one attribute per call, named either way: Attribute+Value, X.Value, or GroupId.N.
    const named: Array<{ attribute: string; raw?: string }> = [];
    const attribute = p.string('Attribute');
    if (attribute !== undefined) named.push({ attribute, raw: p.string('Value') });
    else if (p.has('Value')) throw ec2Errors.missingParameter('Attribute');
    for (const [struct, attr] of Object.entries(STRUCTS)) {
      const s = p.struct(struct);
      if (!s) continue;
      s.allowOnly(new Set(['Value']));
      named.push({ attribute: attr, raw: s.requireString('Value') });
    }
    const groups = p.list('GroupId');
    if (groups.length > 0) named.push({ attribute: 'groupSet' });
    if (named.length === 0) throw ec2Errors.missingParameter('Attribute');
    if (named.length > 1) throw ec2Errors.combination('Fields for multiple attribute types specified');
    const change = named[0] as { attribute: string; raw?: string };
    if (FIXED.has(change.attribute)) {
      throw ec2Errors.unsupported(`Changing ${change.attribute} is not supported by skygate: no provider port offers it`);
    }
    let patch: ModifiableAttributes;
    if (change.attribute === 'groupSet') {
      patch = { securityGroups: await resolveIds(ctx, 'security-group', groups) };
    } else {
      if (change.raw === undefined) throw ec2Errors.missingParameter('Value');
      patch = parseAttributeValue(change.attribute, change.raw);
    }
    const instance = await fetchResource(ctx, 'instance', ec2Id);
    await ctx.core.resources.modifyInstanceAttributes(instance.id, patch, ctx.caller);
    return { return: true };
  },
);

export const instanceAttributeActions: ActionTable = {
  DescribeInstanceAttribute: describeInstanceAttribute,
  ModifyInstanceAttribute: modifyInstanceAttribute,
};
