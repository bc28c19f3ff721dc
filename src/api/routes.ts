// The wallet's paths, named as ThrillGate's wallet definition names its endpoints. The router
// serves these and `npm run thrillgate-config` prints them, so the two cannot drift.
// No imports: the Node scripts read this file as it is.

export const WALLET_ENDPOINTS = {
  auth: "/wallet/authenticate",
  balance: "/wallet/balance",
  cancel_bet: "/wallet/cancel",
  transaction: "/wallet/transaction",
  transaction_batch: "/wallet/transaction/batch",
  cancel_batch: "/wallet/transaction/batch",
} as const;
