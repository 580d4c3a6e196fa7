/**
 * server.json at the repository root: this server's entry for the MCP Registry (schema
 * 2025-12-11), an npm package run over stdio with the argument `mcp`. `npm run release` rewrites
 * it so its versions always equal package.json's.
 */
import { DESCRIPTION, HOMEPAGE, LAUNCHER_NAME, MCP_NAME } from './npm-packages'

export const SERVER_SCHEMA_URL = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json'

export function serverJson(version: string): Record<string, unknown> {
  return {
    $schema: SERVER_SCHEMA_URL,
    name: MCP_NAME,
    title: 'Mazemaker',
    description: DESCRIPTION,
    websiteUrl: HOMEPAGE,
    version,
    packages: [
      {
        registryType: 'npm',
        registryBaseUrl: 'https://registry.npmjs.org',
        identifier: LAUNCHER_NAME,
        version,
        runtimeHint: 'npx',
        transport: { type: 'stdio' },
        packageArguments: [{ type: 'positional', value: 'mcp' }],
        environmentVariables: [
          {
            name: 'MAZEMAKER_HOME',
            description: "The pod's home directory (default ~/.mazemaker)",
            format: 'filepath',
            isRequired: false,
          },
        ],
      },
    ],
  }
}
