/** The archive's retention as deployed: the lifecycle rules of infra/modules/storage.bicep and the azd parameter. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/app';
import { DEFAULT_ARCHIVE_CONTAINER } from '../../../shared/config/archive';

const read = (f: string) => readFileSync(join(REPO_ROOT, f), 'utf8');

test('ARCHIVE_RETENTION_DAYS (default 30) reaches a delete rule over the archive container, append blobs included', () => {
  const params = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, { value: unknown }> };
  expect(params.parameters.archiveRetentionDays.value).toBe('${ARCHIVE_RETENTION_DAYS=30}');
  const main = read('infra/main.bicep');
  expect(main).toContain(`param archiveContainer string = '${DEFAULT_ARCHIVE_CONTAINER}'`);
  expect(main).toContain("param archiveRetentionDays string = '30'");
  expect(main).toContain("param archiveCoolAfterDays string = '7'");
  expect(main).toMatch(/ARCHIVE_CONTAINER: archiveContainer/);
  const storage = read('infra/modules/storage.bicep');
  const rule =
    /name: 'expire-archive'[\s\S]*?blobTypes: \[([^\]]*)\][\s\S]*?prefixMatch: \['\$\{archiveContainerName\}\/'\][\s\S]*?delete: \{ daysAfterModificationGreaterThan: int\(archiveRetentionDays\) \}/.exec(
      storage,
    );
  expect(rule?.[1]).toBe("'appendBlob', 'blockBlob'");
  // Tiering exists for block blobs only (Set Blob Tier): the cool rule is limited to them.
  expect(storage).toMatch(
    /name: 'cool-archive-block-blobs'[\s\S]*?blobTypes: \['blockBlob'\][\s\S]*?tierToCool: \{ daysAfterModificationGreaterThan: int\(archiveCoolAfterDays\) \}/,
  );
});
