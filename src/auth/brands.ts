// Which brands a request's key may reach. Every brand listed in WALLET_HMAC_SECRETS has its own
// key; WALLET_HMAC_SECRET (the default key) signs for every brand that is not listed. Plain data:
// a scope travels to the player's Durable Object with each operation.

export interface BrandScope {
  /** The brand whose own key signed; null for the default key. */
  brand: string | null;
  /** The brands with their own key: the default key reaches none of them. */
  listed: string[];
}

/** May a request of this scope reach a player of `brandId`? */
export function inScope(scope: BrandScope, brandId: string): boolean {
  return scope.brand === null ? !scope.listed.includes(brandId) : scope.brand === brandId;
}

/** True if the scope reaches every brand: a deployment without WALLET_HMAC_SECRETS. */
export function reachesEveryBrand(scope: BrandScope): boolean {
  return scope.brand === null && scope.listed.length === 0;
}

/** What a request's log line names as its signer: the brand, or "(default)" for the default key. */
export function scopeLabel(scope: BrandScope): string {
  return scope.brand ?? "(default)";
}
