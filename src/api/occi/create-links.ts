/**
 * The inline links a compute create may carry: one networkinterface to the network the compute goes on (a created
 * network, or its provider's default one). Storage is attached after the create, through /storagelink/.
 */
import { idOf, KINDS, MIXINS } from './categories.js';
import { checkAttributes, checkDynamic, defsOf, str } from './check.js';
import { idIn } from './entities.js';
import { badRequest } from './errors.js';
import type { ParsedLink } from './parse.js';

/**
 * The network (skygate id) the links of a create put the compute on; undefined when they name none. Link
 * attributes a client sends back as it read them (id, title, source, state) are ignored; what the provider assigns
 * (the address, GFD.224's mac and interface) cannot be chosen, so naming it is a 400 saying so.
 */
export function networkOfLinks(links: ParsedLink[]): string | undefined {
  let network: string | undefined;
  for (const l of links) {
    const kind = l.kind ?? (idIn(l.target, 'network') !== undefined ? idOf(KINDS.networkinterface) : undefined);
    if (kind === idOf(KINDS.storagelink))
      throw badRequest(`${l.where}: a storage is attached after the create (POST /storagelink/), not in it`);
    if (kind !== idOf(KINDS.networkinterface))
      throw badRequest(`${l.where}: a compute create links only to a network (kind ${idOf(KINDS.networkinterface)})`);
    for (const m of l.mixins) {
      if (m !== idOf(MIXINS.ipnetworkinterface))
        throw badRequest(`${l.where}: mixin ${m}: a networkinterface takes only ${idOf(MIXINS.ipnetworkinterface)}`);
    }
    const id = idIn(l.target, 'network');
    if (id === undefined) throw badRequest(`${l.where}: the target must be the location of a network (/network/{id})`);
    const named = str(l.attributes['occi.core.target']);
    if (named !== undefined && idIn(named, 'network') !== id)
      throw badRequest(`${l.where}: attribute occi.core.target (${named}) is not the link's target (${l.target})`);
    for (const name of ['occi.networkinterface.address', 'occi.networkinterface.gateway']) {
      if (l.attributes[name] !== undefined)
        throw badRequest(`${l.where}: attribute ${name}: is assigned by the provider; a create cannot choose it`);
    }
    // The target is checked against the link's above, the allocation below; the rest are echoes of what was read.
    checkAttributes(l.attributes, defsOf(KINDS.networkinterface, MIXINS.ipnetworkinterface), 'create', [
      'occi.core.id',
      'occi.core.title',
      'occi.core.source',
      'occi.core.target',
      'occi.networkinterface.state',
      'occi.networkinterface.allocation',
    ]);
    checkDynamic(l.attributes, 'occi.networkinterface.allocation', `${l.where}: `);
    if (network !== undefined && network !== id)
      throw badRequest(`${l.where}: a compute is on one network here, and an earlier link names ${network}`);
    network = id;
  }
  return network;
}
