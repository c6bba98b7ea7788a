/** `GET /api/occupancy/{resourceId}`: a resource's live occupancy (404 unknown, 400 malformed id, 503 storage down). */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isStorageUnavailable } from '../../shared/errors';
import { occupancyView } from './model';
import { occupancyStore } from './consumer';

/** Engage resource ids (ResourceItemId) are positive 32-bit integers. */
export function parseResourceId(raw: string | undefined): number | undefined {
  if (!raw || !/^[1-9][0-9]{0,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= 2_147_483_647 ? n : undefined;
}

export async function getOccupancy(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const raw = request.params.resourceId;
  const resourceId = parseResourceId(raw);
  if (resourceId === undefined) {
    return { status: 400, jsonBody: { error: 'bad_request', reason: 'resourceId must be a positive integer (Engage ResourceItemId)' } };
  }
  try {
    const doc = await (await occupancyStore()).get(resourceId);
    if (!doc) return { status: 404, jsonBody: { error: 'not_found', reason: `no occupancy known for resource ${resourceId}` } };
    return { status: 200, jsonBody: occupancyView(doc) };
  } catch (err) {
    if (isStorageUnavailable(err)) {
      context.warn(`occupancy: storage unavailable while reading resource ${resourceId}`);
      return {
        status: 503,
        headers: { 'Retry-After': '5' },
        jsonBody: { error: 'storage_unavailable', reason: 'occupancy storage is unavailable, retry later' },
      };
    }
    throw err;
  }
}
