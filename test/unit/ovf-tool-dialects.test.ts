/**
 * Descriptors in the dialects of tools that skygate once refused: XenServer's Storage Extent disks
 * (ResourceType 19) and VMware's OVF 0.9 with unqualified elements typed by xsi:type. Where a variant
 * truly cannot be read, the refusal must name the real cause.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SkygateError } from '../../src/core/errors.js';
import { planImport } from '../../src/portability/import-plan.js';
import { parseOvf } from '../../src/portability/ovf-parse.js';
import { summarize } from '../../src/portability/ovf-summary.js';

const DIR = 'test/fixtures/ovf/minimal';
const GiB = 2 ** 30;
const XEN = readFileSync(path.join(DIR, 'xenserver-storage-extent.ovf'), 'utf8');
const V09 = readFileSync(path.join(DIR, 'vmware-ovf09-unqualified.ovf'), 'utf8');
const XEN_ITEM = 'descriptor.VirtualSystem[mini-xen].VirtualHardwareSection.Item[vbd-3c1e]';

/** `text` with `from` replaced, failing loudly if the fixture no longer holds it. */
function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  assert.notEqual(out, text, `the fixture no longer contains ${from}`);
  return out;
}

/** The field errors of the `invalid_input` that `fn` throws. */
function errorsOf(fn: () => unknown): Array<{ field: string; reason: string }> {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SkygateError, String(e));
    assert.equal(e.code, 'invalid_input');
    return e.errors ?? [];
  }
  assert.fail('expected a refusal');
}

describe('XenServer/XenCenter: disks attached as Storage Extents (ResourceType 19)', () => {
  const xenDisk = { id: '3c1e7a52', capacityBytes: 4 * GiB, format: 'vhd', file: '3c1e7a52-disk.vhd' };

  it('reads the Storage Extent as the boot disk, with its capacity, format and file', () => {
    const env = parseOvf(XEN);
    const vs = summarize(env).virtualSystems[0];
    assert.deepEqual(vs?.disks, [xenDisk]);
    assert.equal(vs?.vcpus, 2);
    assert.equal(vs?.memoryMiB, 1024);
    assert.deepEqual(env.warnings, [], 'nothing is dropped or left unattached');
    const plan = planImport(env);
    assert.equal(plan.disk.id, '3c1e7a52');
    assert.equal(plan.file.href, '3c1e7a52-disk.vhd');
    assert.equal(plan.format, 'vpc');
    assert.deepEqual(plan.need, { vcpus: 2, memoryMiB: 1024, diskGiB: 4 });
  });

  it('takes a /disk/<id> host resource (no ovf: scheme) the same way', () => {
    const env = parseOvf(edit(XEN, '>ovf:/disk/3c1e7a52<', '>/disk/3c1e7a52<'));
    assert.deepEqual(summarize(env).virtualSystems[0]?.disks, [xenDisk]);
  });

  it('takes a Logical Disk (ResourceType 31) the same way', () => {
    const env = parseOvf(edit(XEN, '<rasd:ResourceType>19<', '<rasd:ResourceType>31<'));
    assert.deepEqual(summarize(env).virtualSystems[0]?.disks, [xenDisk]);
  });

  it('refuses a Storage Extent whose HostResource is missing, naming the item and the rule', () => {
    const xml = edit(XEN, /\s*<rasd:HostResource>ovf:\/disk\/3c1e7a52<\/rasd:HostResource>/, '');
    assert.deepEqual(
      errorsOf(() => parseOvf(xml)),
      [
        {
          field: `${XEN_ITEM}.HostResource`,
          reason: 'is missing: a Storage Extent (ResourceType 19) item must name its disk as ovf:/disk/<id>',
        },
      ],
    );
  });

  it('when no disk item references the DiskSection, the refusal says so instead of "attaches no disk"', () => {
    // A Tape Drive (18) is not a disk, whatever it points at.
    const env = parseOvf(edit(XEN, '<rasd:ResourceType>19<', '<rasd:ResourceType>18<'));
    assert.ok(
      env.warnings.includes(
        "descriptor.VirtualSystem[mini-xen].VirtualHardwareSection: hardware not carried over to a cloud: resource type 18 on disk '3c1e7a52'",
      ),
      env.warnings.join('\n'),
    );
    assert.deepEqual(
      errorsOf(() => planImport(env)),
      [
        {
          field: 'descriptor.VirtualSystem[mini-xen]',
          reason:
            "attaches none of the DiskSection's disks ('3c1e7a52'): no item of ResourceType Disk Drive (17), " +
            'Storage Extent (19), Logical Disk (31) names one in its HostResource (ovf:/disk/<id>), so there is nothing to import',
        },
      ],
    );
  });
});

describe('OVF 0.9 with unqualified References, Section, Content and Item', () => {
  it('reads the envelope: virtual system, hardware, disk and network', () => {
    const env = parseOvf(V09);
    assert.equal(env.generation, '0.9');
    const summary = summarize(env);
    assert.equal(summary.ovfVersion, '0.9');
    const vs = summary.virtualSystems[0];
    assert.deepEqual(
      { id: vs?.id, os: vs?.os, vcpus: vs?.vcpus, memoryMiB: vs?.memoryMiB, networks: vs?.networks, nics: vs?.nics },
      { id: 'mini09', os: 'Linux', vcpus: 2, memoryMiB: 768, networks: ['bridged'], nics: 1 },
    );
    assert.deepEqual(vs?.disks, [{ id: 'vmdisk1', capacityBytes: 2 * GiB, format: 'vmdk', file: 'mini09-disk1.vmdk' }]);
    assert.deepEqual(summary.files, [{ id: 'file1', href: 'mini09-disk1.vmdk', size: 65536 }]);
    assert.deepEqual(env.warnings, ['OVF 0.9 (VMware pre-DMTF draft namespace): read as OVF 1.0']);
    const plan = planImport(env);
    assert.equal(plan.disk.id, 'vmdisk1');
    assert.equal(plan.file.href, 'mini09-disk1.vmdk');
    assert.equal(plan.format, 'vmdk');
    assert.equal(env.virtualSystems[0]?.hardware.disks[0]?.controller, 'scsi');
  });

  it('refuses a Content without xsi:type, saying that its kind cannot be told', () => {
    const xml = edit(V09, '<Content ovf:id="mini09" xsi:type="ovf:VirtualSystem_Type">', '<Content ovf:id="mini09">');
    assert.deepEqual(
      errorsOf(() => parseOvf(xml)),
      [
        {
          field: 'descriptor.Content[mini09]',
          reason:
            'has no xsi:type, so it cannot be told whether it is a virtual system or a collection ' +
            '(expected ovf:VirtualSystem_Type or ovf:VirtualSystemCollection_Type)',
        },
      ],
    );
  });

  it('refuses a Content of another xsi:type, naming it', () => {
    const xml = edit(V09, 'xsi:type="ovf:VirtualSystem_Type"', 'xsi:type="ovf:Appliance_Type"');
    assert.deepEqual(
      errorsOf(() => parseOvf(xml)),
      [
        {
          field: 'descriptor.Content[mini09]',
          reason:
            "has xsi:type 'ovf:Appliance_Type', which is neither ovf:VirtualSystem_Type nor " +
            'ovf:VirtualSystemCollection_Type; skygate imports virtual systems only',
        },
      ],
    );
  });
});

describe('envelopes whose elements sit in the wrong namespace', () => {
  it('an OVF 1.0 envelope with an unqualified VirtualSystem: the refusal names the namespaces', () => {
    const xml = `<?xml version="1.0"?><ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
      <ovf:References/><VirtualSystem ovf:id="vm"><Info>x</Info></VirtualSystem></ovf:Envelope>`;
    assert.deepEqual(
      errorsOf(() => parseOvf(xml)),
      [
        {
          field: 'descriptor.VirtualSystem',
          reason:
            'the envelope holds no VirtualSystem in its namespace http://schemas.dmtf.org/ovf/envelope/1: ' +
            'its <VirtualSystem> is in no namespace, which OVF 1.x does not allow',
        },
      ],
    );
  });

  it('an Envelope in no namespace whose attributes are OVF 0.9: the refusal says the element has no namespace', () => {
    const xml = edit(edit(V09, '<ovf:Envelope ', '<Envelope '), '</ovf:Envelope>', '</Envelope>');
    const [error] = errorsOf(() => parseOvf(xml));
    assert.equal(error?.field, 'descriptor');
    assert.match(
      error?.reason ?? '',
      /^root element \{\}Envelope is not an OVF Envelope in a known namespace \(.*\); it is in no namespace, although its attributes are in http:\/\/www\.vmware\.com\/schema\/ovf\/1\/envelope$/,
    );
  });
});
