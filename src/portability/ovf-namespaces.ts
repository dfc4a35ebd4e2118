/** The XML namespaces of OVF envelopes (DSP0243 1.x and 2.x, and VMware's pre-DMTF 0.9) and of the CIM classes they embed. */

export const OVF_NS = {
  '1': 'http://schemas.dmtf.org/ovf/envelope/1',
  '2': 'http://schemas.dmtf.org/ovf/envelope/2',
  /** OVF 0.9, VMware's draft before DMTF standardised it; still found in old appliances. */
  '0.9': 'http://www.vmware.com/schema/ovf/1/envelope',
} as const;

export type OvfGeneration = keyof typeof OVF_NS;

const CIM = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2';
export const RASD_NS = `${CIM}/CIM_ResourceAllocationSettingData`;
export const VSSD_NS = `${CIM}/CIM_VirtualSystemSettingData`;
export const SASD_NS = `${CIM}/CIM_StorageAllocationSettingData`;
export const EPASD_NS = `${CIM}/CIM_EthernetPortAllocationSettingData`;
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const VMW_NS = 'http://www.vmware.com/schema/ovf';
export const VBOX_NS = 'http://www.virtualbox.org/ovf/machine';

/**
 * The namespaces an envelope's own elements (References, Section, Content, Item...) may be in. VMware's
 * OVF 0.9 tools wrote them unprefixed under an `ovf:Envelope` with no default namespace, i.e. in no
 * namespace at all, and told sections and content apart by `xsi:type`; later generations keep them in
 * the envelope namespace.
 */
export function elementNamespaces(generation: OvfGeneration): readonly string[] {
  return generation === '0.9' ? [OVF_NS['0.9'], ''] : [OVF_NS[generation]];
}

/** The generation an envelope namespace belongs to, or undefined for a namespace skygate does not know. */
export function generationOf(ns: string): OvfGeneration | undefined {
  return (Object.keys(OVF_NS) as OvfGeneration[]).find((g) => OVF_NS[g] === ns);
}
