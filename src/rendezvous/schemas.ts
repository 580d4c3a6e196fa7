/** What the rendezvous accepts: the wire's schemas, defined in src/protocol (rendezvous-messages.ts). */
export { LookupKeySchema as PublicKeySchema, PeerIdSchema, RegisterSchema, ReleaseSchema } from '../protocol'
