/**
 * src/backup — backups (snapshot + key files, age-encrypted), restore with the same identity,
 * and memory export/import as JSON Lines.
 */
export { createBackup, checkPassphrase, BACKUP_FORMAT, MIN_PASSPHRASE_CHARS, SCRYPT_WORK_FACTOR, type BackupOptions, type BackupResult } from './backup'
export { restoreBackup, type RestoreResult } from './restore'
