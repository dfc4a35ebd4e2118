/** The descriptor parser refuses DTDs, entity bombs, external entities, oversized or malformed XML and unknown namespaces. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SkygateError } from '../../src/core/errors.js';
import { parseOvf } from '../../src/portability/ovf-parse.js';
import { MAX_DESCRIPTOR_BYTES, children, parseXml } from '../../src/portability/xml.js';

const OVF1 = 'http://schemas.dmtf.org/ovf/envelope/1';

function refused(input: string | Buffer, reason: RegExp): void {
  assert.throws(
    () => parseOvf(input),
    (e: unknown) => {
      assert.ok(e instanceof SkygateError, String(e));
      assert.equal(e.code, 'invalid_input');
      assert.match(e.message, reason);
      return true;
    },
  );
}

const envelope = (body: string, ns = OVF1) =>
  `<?xml version="1.0"?><Envelope xmlns="${ns}" xmlns:ovf="${ns}"><References/>${body}</Envelope>`;

describe('hardened OVF parsing', () => {
  it('refuses a DTD before parsing', () => {
    refused(`<?xml version="1.0"?><!DOCTYPE Envelope><Envelope xmlns="${OVF1}"/>`, /DTD/);
  });

  it('refuses the billion-laughs entity bomb', () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Envelope xmlns="${OVF1}"><Info>&lol3;</Info></Envelope>`;
    refused(bomb, /DTD/);
  });

  it('refuses an external entity (XXE) even without a DOCTYPE keyword in capitals', () => {
    refused(
      `<?xml version="1.0"?><!doctype x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Envelope xmlns="${OVF1}">&xxe;</Envelope>`,
      /DTD/,
    );
    refused(`<?xml version="1.0"?><Envelope xmlns="${OVF1}"><!ENTITY x "y"></Envelope>`, /entity declaration|not well-formed/);
  });

  it('refuses an entity reference nothing defines', () => {
    refused(envelope('<VirtualSystem ovf:id="a"><Info>&xxe;</Info></VirtualSystem>'), /undefined entity '&xxe;'/);
  });

  it('decodes the predefined entities and character references, and only those', () => {
    const root = parseXml(`<a><b>x &lt; &amp; &quot;q&quot; &#65;&#x42;</b><c><![CDATA[&amp; stays]]></c></a>`);
    assert.equal(children(root, '', 'b')[0]?.text, 'x < & "q" AB');
    assert.equal(children(root, '', 'c')[0]?.text, '&amp; stays');
    const vmware = parseXml(readFileSync('test/fixtures/ovf/vsphere-esxi55-export-two-disks.ovf'));
    assert.match(
      JSON.stringify(vmware, (_k, v) => (v instanceof Map ? [...v] : v)),
      /E1000 ethernet adapter on \\"PG-VLAN60\\"/,
    );
  });

  it('refuses a descriptor over the size limit without parsing it', () => {
    const big = envelope(`<Info>${'x'.repeat(MAX_DESCRIPTOR_BYTES)}</Info>`);
    refused(big, /more than the \d+ accepted/);
  });

  it('refuses malformed XML with the parser position', () => {
    refused(`<Envelope xmlns="${OVF1}"><References></Envelope>`, /not well-formed XML/);
  });

  it('refuses an unknown OVF namespace, naming it', () => {
    refused(
      envelope('<VirtualSystem ovf:id="a"/>', 'http://example.com/ovf/envelope/3'),
      /http:\/\/example\.com\/ovf\/envelope\/3.*not an OVF Envelope/,
    );
    refused('<Envelope><References/></Envelope>', /not an OVF Envelope/);
  });

  it('refuses an undeclared namespace prefix', () => {
    refused(`<Envelope xmlns="${OVF1}"><x:Thing/></Envelope>`, /prefix 'x'/);
  });

  it('refuses dangling references and bad numbers, listing every problem', () => {
    const bad = envelope(`
      <DiskSection><Info/><Disk ovf:diskId="d1" ovf:fileRef="nofile" ovf:capacity="lots"/></DiskSection>
      <VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection><Info/>
        <Item xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
          <rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>ovf:/disk/nodisk</rasd:HostResource>
        </Item>
      </VirtualHardwareSection></VirtualSystem>`);
    try {
      parseOvf(bad);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof SkygateError);
      const fields = (e.errors ?? []).map((x) => x.field);
      assert.ok(fields.includes('descriptor.DiskSection.Disk[d1].fileRef'), fields.join());
      assert.ok(fields.includes('descriptor.DiskSection.Disk[d1].capacity'), fields.join());
      assert.ok(
        fields.some((f) => f.endsWith('.Item[1].HostResource')),
        fields.join(),
      );
    }
  });

  it('refuses an envelope without a virtual system', () => {
    refused(envelope(''), /no VirtualSystem/);
  });
});
