/** Real X25519 key pairs and identities for tests. */
import { createIdentity, type Identity, type PodId } from '../../src/identity'
import { randomKeyBytes } from '../../src/identity/keys'

export async function testIdentity(podId: string, name = 'test'): Promise<Identity> {
  return createIdentity({
    podId: podId as PodId,
    name,
    privateKey: randomKeyBytes(),
    vaultKey: randomKeyBytes(),
    adminToken: 'admin-token-for-tests-0123456789abcdefghijk',
  })
}

export const ID_A = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f' as PodId
export const ID_B = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3' as PodId
export const ID_C = 'ffffffff-0000-4000-8000-000000000000' as PodId
