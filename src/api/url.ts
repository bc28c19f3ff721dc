import { ApiError } from "./errors";

// Path parameters and query values are read once, decoded, here: itty-router matches the raw
// (percent-encoded) path and hands on its pieces as they are, so /admin/players/pl%C3%A4 would look
// for a player "pl%C3%A4". A malformed percent-encoding, or one that decodes to something that is
// not well-formed Unicode, is refused: an id must read one way only.

function decoded(what: string, raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new ApiError("INVALID_REQUEST", `${what} is not valid percent-encoded UTF-8`);
  }
  if (!value.isWellFormed())
    throw new ApiError("INVALID_REQUEST", `${what} is not well-formed Unicode`);
  return value;
}

/** The query of `url` as itty-router shapes it (a repeated name gives an array), every part decoded strictly. */
export function decodedQuery(url: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  const search = new URL(url).search.slice(1);
  for (const pair of search.split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const [rawName, rawValue] = at === -1 ? [pair, ""] : [pair.slice(0, at), pair.slice(at + 1)];
    const name = decoded("a query parameter name", rawName.replace(/\+/g, " "));
    const value = decoded(`query parameter ${name.slice(0, 64)}`, rawValue.replace(/\+/g, " "));
    const earlier = query[name];
    query[name] = earlier === undefined ? value : [earlier, value].flat();
  }
  return query;
}

/** The route's parameters, each decoded (see above). */
export function decodedParams(raw: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([name, value]) => [name, decoded(`path parameter ${name}`, value)]),
  );
}
