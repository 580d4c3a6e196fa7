/**
 * Real-shaped FAKE credentials (none was ever issued) and lookalikes that must not be held. They
 * are assembled at run time so that scanners reading this repository do not flag the file.
 */
const j = (...parts: string[]) => parts.join('')

export const FAKE_SECRETS: Record<string, string> = {
  'AWS access key id': j('deploy user key ', 'AKIA', 'QYLPMN5HHHFPZAM2'),
  'AWS secret access key': j('aws_secret_access_key', ' = ', 'Kf8sQw3nZp7Lr2Xv9Tb4', 'Mc6Hd1Jg5Ny0Ae8Ru3Wq'),
  'GitHub token': j('CI uses ', 'ghp_', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'),
  'Slack bot token': j('bot: ', 'xox', 'b-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'),
  'Slack webhook': j('alerts go to https://hooks.', 'slack.com/services/', 'T0A1B2C3D/B0A1B2C3D/', 'Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1'),
  'PEM private key block': j(
    '-----BEGIN ',
    'RSA PRIVATE KEY-----\n',
    'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n',
    'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n',
    '-----END ',
    'RSA PRIVATE KEY-----',
  ),
}

export const LOOKALIKES: Record<string, string> = {
  UUID: 'memory 0192f3a4-5b6c-7d8e-9f01-23456789abcd was merged into 6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f',
  'sha256 hex digest': 'release tarball sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'the word password in prose': 'the password reset flow mails a link; never store a password or an API key in plain text',
  'a git commit id': 'fixed in commit 9f5bd7e1c2a84b3d6e0f7a8b9c0d1e2f3a4b5c6d',
}
