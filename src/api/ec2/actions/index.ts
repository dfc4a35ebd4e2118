/** Every EC2 action the front answers, by name; anything else is InvalidAction. */
import type { ActionTable } from '../context.js';
import { imageActions } from './images.js';
import { instanceAttributeActions } from './instance-attributes.js';
import { instanceActions } from './instances.js';
import { keyPairActions } from './key-pairs.js';
import { networkActions } from './network.js';
import { regionActions } from './regions.js';
import { snapshotActions } from './snapshots.js';
import { tagActions } from './tags.js';
import { volumeActions } from './volumes.js';

export const ACTIONS: ActionTable = {
  ...regionActions,
  ...instanceActions,
  ...instanceAttributeActions,
  ...imageActions,
  ...snapshotActions,
  ...volumeActions,
  ...tagActions,
  ...keyPairActions,
  ...networkActions,
};
