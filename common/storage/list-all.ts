import type { ObjectInfo, ObjectStore } from './types.js';

/** Every object under `prefix`, following the store's `list` page by page: `listAll` for any store. */
export async function* listAllPages(
  store: Pick<ObjectStore, 'list'>,
  prefix: string,
): AsyncIterable<ObjectInfo> {
  let token: string | undefined;
  do {
    const page = await store.list(prefix, token === undefined ? {} : { token });
    yield* page.objects;
    token = page.nextToken;
  } while (token !== undefined);
}
