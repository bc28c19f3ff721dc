// The operator console: a thin page over the admin API. No build step, no library.
// Safety rules this file keeps (the CSP in public/_headers backs them up):
// - the admin token lives in sessionStorage only: never in a URL, a cookie or a log line;
// - every value from the API is inserted as text (textContent / Text nodes), never as HTML;
// - money is shown as the API wrote it (1000.00 stays 1000.00), never through a float.

const TOKEN_KEY = "edge-wallet.admin-token";
const LEDGER_PAGE_ENTRIES = 25;

// ---------- the API ----------

/** A JSON number kept as its source text, so 1000.00 is not shown as 1000. */
class ExactNumber {
  constructor(source) {
    this.source = source;
  }
  toString() {
    return this.source;
  }
  toJSON() {
    return typeof JSON.rawJSON === "function" ? JSON.rawJSON(this.source) : Number(this.source);
  }
}

/** JSON.parse, with every number read from its source text (context.source, where the browser has it). */
function parseExact(text) {
  return JSON.parse(text, (_key, value, context) =>
    typeof value === "number" ? new ExactNumber(context?.source ?? String(value)) : value,
  );
}

class ApiProblem extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/**
 * Calls an admin route (GET unless `method` says otherwise, `body` sent as JSON); answers the
 * parsed body or throws an ApiProblem with the API's code and message.
 */
async function api(path, method = "GET", body = undefined) {
  const headers = { authorization: `Bearer ${token()}`, accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiProblem(0, "NETWORK", "the wallet did not answer");
  }
  const text = await response.text();
  let answer;
  try {
    answer = parseExact(text);
  } catch {
    answer = undefined;
  }
  if (!response.ok) {
    const code = typeof answer?.code === "string" ? answer.code : `HTTP ${response.status}`;
    const message = typeof answer?.message === "string" ? answer.message : "unexpected answer";
    if (response.status === 401)
      signOut("The admin token was refused (401 UNAUTHORIZED): sign in again.");
    throw new ApiProblem(response.status, code, message);
  }
  return answer;
}

// ---------- building the page, as text only ----------

/** An element with text children: strings and values become Text nodes, never markup. */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) node.append(child instanceof Node ? child : display(child));
  return node;
}

/** How a value from the API is shown. */
function display(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (value instanceof ExactNumber) return value.source;
  return JSON.stringify(value);
}

function byId(id) {
  return document.getElementById(id);
}

function showError(id, error) {
  const node = byId(id);
  node.textContent =
    error instanceof ApiProblem ? `${error.code}: ${error.message}` : `Error: ${String(error)}`;
  node.hidden = false;
}

function hide(...ids) {
  for (const id of ids) byId(id).hidden = true;
}

/** Fills a <dl> with [label, value] pairs. */
function fillFields(dl, pairs) {
  dl.replaceChildren();
  for (const [label, value] of pairs) {
    dl.append(
      el("dt", "", label),
      value instanceof Node ? el("dd", "", value) : el("dd", "", display(value)),
    );
  }
}

/** A button that opens another page for an id (a player, a transaction). */
function linkButton(text, onClick) {
  const button = el("button", "link mono", text);
  button.type = "button";
  button.addEventListener("click", onClick);
  return button;
}

function metadataCell(metadata) {
  const cell = el("td", "metadata");
  if (metadata === null || metadata === undefined) return cell;
  for (const [key, value] of Object.entries(metadata)) {
    cell.append(el("div", "", el("span", "muted", `${key}: `), display(value)));
  }
  return cell;
}

function moneyCell(value) {
  return el("td", "num money", display(value));
}

function when(iso) {
  return typeof iso === "string"
    ? iso
        .replace("T", " ")
        .replace(/\.\d+Z$/, "")
        .replace(/Z$/, "")
    : display(iso);
}

// ---------- pages ----------

const PAGES = ["player", "transaction", "reconcile", "daily"];

function showPage(name) {
  const page = PAGES.includes(name) ? name : "player";
  for (const section of document.querySelectorAll("main section[data-page]"))
    section.hidden = section.dataset.page !== page;
  for (const link of document.querySelectorAll("#pages a")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// Player: profile, balance, and the ledger newest first, one page at a time.
const ledgerState = { playerId: null, nextBefore: null };

// Each search counts up; an answer that arrives after a newer search started is dropped, so a
// slow answer for one id never fills the page under another.
const searches = { player: 0, transaction: 0 };

async function findPlayer(playerId) {
  const search = ++searches.player;
  location.hash = "player";
  byId("player-id-input").value = playerId;
  hide("player-error", "player-result");
  try {
    const player = await api(`/admin/players/${encodeURIComponent(playerId)}`);
    if (search !== searches.player) return;
    // The ledger first: the page never shows one player's profile over another's ledger.
    ledgerState.playerId = player.player_id;
    await showLedgerPage(undefined);
    if (search !== searches.player) return;
    showPlayerSummary(player);
    hide("transfer-result", "status-result");
    byId("transfer-id").value = newTransferId();
    fillFields(byId("player-profile"), [
      ["Operator", player.operator_id],
      ["Brand", player.brand_id],
      ["Currency", player.currency],
      ["Nickname", player.nickname],
      ["Gender", player.gender],
      ["Country", player.country],
      ["Date of birth", player.date_of_birth],
      ["Jurisdiction", player.jurisdiction],
      [
        "Segments",
        Array.isArray(player.segments) && player.segments.length
          ? player.segments.join(", ")
          : null,
      ],
    ]);
    byId("player-result").hidden = false;
  } catch (error) {
    if (search === searches.player) showError("player-error", error);
  }
}

async function showLedgerPage(before) {
  const query = new URLSearchParams({ limit: String(LEDGER_PAGE_ENTRIES) });
  if (before !== undefined) query.set("before", before);
  const page = await api(
    `/admin/players/${encodeURIComponent(ledgerState.playerId)}/ledger?${query}`,
  );
  const rows = page.entries.map((entry) =>
    el(
      "tr",
      entry.effect === "reverse" ? "reverse" : "",
      el("td", "num muted", display(entry.id)),
      el("td", "nowrap", when(entry.created_at)),
      el(
        "td",
        "",
        linkButton(entry.transaction_id, () => lookUpTransaction(entry.transaction_id)),
      ),
      el("td", "", display(entry.effect)),
      el("td", "", display(entry.type)),
      moneyCell(entry.amount),
      moneyCell(entry.balance_after),
      metadataCell(entry.metadata),
    ),
  );
  byId("ledger").tBodies[0].replaceChildren(...rows);
  byId("ledger-empty").hidden = rows.length > 0;
  ledgerState.nextBefore = page.next_before === null ? null : String(page.next_before);
  byId("ledger-older").disabled = ledgerState.nextBefore === null;
  byId("ledger-newest").disabled = before === undefined;
  // Where the live ledger starts: older entries are in the archive (docs/archive.md).
  const archived = page.archived;
  byId("ledger-archived").hidden = !archived || ledgerState.nextBefore !== null;
  byId("ledger-archived").textContent = archived
    ? `Older: ${display(archived.entries)} entries archived, through ${display(archived.through_day)} (UTC); the ledger export reads them.`
    : "";
}

const STATUS_BADGE = { active: "good", suspended: "warn", closed: "bad" };

function showPlayerSummary(player) {
  byId("player-id").textContent = display(player.player_id);
  byId("player-balance").textContent = display(player.balance);
  byId("player-currency").textContent = display(player.currency);
  const status = byId("player-status");
  status.textContent = display(player.status);
  status.className = `badge ${STATUS_BADGE[player.status] ?? ""}`;
  byId("status-select").value = player.status;
}

// Transfers: one id per intended transfer. It stays in the form until the wallet accepted it, so
// sending again after an error or a lost answer can never move the money twice.
function newTransferId() {
  return `console-${crypto.randomUUID()}`;
}

function showResult(id, text, ok) {
  const node = byId(id);
  node.textContent = text;
  node.className = ok ? "note" : "error";
  node.hidden = false;
}

/** Runs an operator action on the shown player, then shows the player and its ledger afresh. */
async function playerAction(resultId, action) {
  const playerId = ledgerState.playerId;
  // Never a stale message beside a new action: it says "Sending…" until the wallet answered.
  showResult(resultId, "Sending…", true);
  try {
    const message = await action(encodeURIComponent(playerId));
    showPlayerSummary(await api(`/admin/players/${encodeURIComponent(playerId)}`));
    await showLedgerPage(undefined);
    showResult(resultId, message, true);
  } catch (error) {
    showResult(
      resultId,
      error instanceof ApiProblem ? `${error.code}: ${error.message}` : String(error),
      false,
    );
  }
}

function transfer() {
  return playerAction("transfer-result", async (player) => {
    const transferId = byId("transfer-id").value.trim();
    const body = {
      transfer_id: transferId,
      direction: byId("transfer-direction").value,
      // As typed: the wallet reads the decimal text exactly.
      amount: byId("transfer-amount").value.trim(),
    };
    const reason = byId("transfer-reason").value.trim();
    if (reason) body.reason = reason;
    const done = await api(`/admin/players/${player}/transfers`, "POST", body);
    byId("transfer-id").value = newTransferId();
    return `Transfer ${display(done.transfer_id)} (${display(done.direction)}) applied: balance ${display(done.balance)} ${display(done.currency)}.`;
  });
}

function setStatus() {
  return playerAction("status-result", async (player) => {
    const status = byId("status-select").value;
    const done = await api(`/admin/players/${player}`, "PATCH", { status });
    return `Status is now ${display(done.status)}.`;
  });
}

function revokeSessions() {
  return playerAction("status-result", async (player) => {
    const done = await api(`/admin/players/${player}/sessions`, "DELETE");
    return `${display(done.revoked)} session(s) revoked.`;
  });
}

// Daily report: one row per day, operator, brand and currency.
function figure(value) {
  return value ? `${display(value.amount)} (${display(value.count)})` : "—";
}

async function showDailyReport() {
  hide("daily-error", "daily-result");
  const query = new URLSearchParams({ from: byId("daily-from").value, to: byId("daily-to").value });
  const brand = byId("daily-brand").value.trim();
  if (brand) query.set("brand_id", brand);
  try {
    const report = await api(`/admin/reports/daily?${query}`);
    const columns = ["debits", "credits", "cancelled_debits", "cancelled_credits"];
    columns.push("transfers_in", "transfers_out");
    const rows = report.days.map((day) =>
      el(
        "tr",
        "",
        el("td", "nowrap", display(day.date)),
        el("td", "", display(day.operator_id)),
        el("td", "", display(day.brand_id)),
        el("td", "", display(day.currency)),
        ...columns.map((column) => el("td", "num money", figure(day[column]))),
        moneyCell(day.ggr),
      ),
    );
    byId("daily-table").tBodies[0].replaceChildren(...rows);
    byId("daily-empty").hidden = rows.length > 0;
    byId("daily-result").hidden = false;
  } catch (error) {
    showError("daily-error", error);
  }
}

// Transaction: what the wallet knows of one id.
const STATUS_EXPLANATION = {
  applied: "The wallet applied it: it moved money once.",
  cancelled: "Applied, then reversed by a cancel: its money went back.",
  refused: "Refused: it moved no money, and a copy of it gets the same answer.",
  tombstone:
    "A cancel arrived before it: the id is remembered, and the transaction is refused if it ever arrives.",
};

async function lookUpTransaction(transactionId) {
  const search = ++searches.transaction;
  location.hash = "transaction";
  byId("transaction-id-input").value = transactionId;
  hide("transaction-error", "transaction-result");
  try {
    const found = await api(`/admin/transactions/${encodeURIComponent(transactionId)}`);
    if (search !== searches.transaction) return;
    const status = byId("transaction-status");
    status.textContent = display(found.status);
    status.className = `badge ${found.status === "applied" ? "good" : found.status === "refused" ? "bad" : "warn"}`;
    byId("transaction-explanation").textContent = STATUS_EXPLANATION[found.status] ?? "";
    const pairs = [
      ["Transaction", el("span", "mono", display(found.transaction_id))],
      [
        "Player",
        found.player_id === null
          ? "— (a cancel that named no player)"
          : linkButton(found.player_id, () => findPlayer(found.player_id)),
      ],
      ["Type", found.type],
      ["Amount", found.amount === null ? "—" : el("span", "money", display(found.amount))],
      ["Currency", found.currency],
      ["Batch", found.batch_id],
      ["First seen (UTC)", when(found.created_at)],
    ];
    if (found.refusal) {
      pairs.push([
        "Refused with",
        `${display(found.refusal.code)}: ${display(found.refusal.message)}`,
      ]);
      if (found.refusal.balance !== null)
        pairs.push(["Balance it was told", el("span", "money", display(found.refusal.balance))]);
    }
    if (found.cancel) {
      pairs.push([
        "Cancel",
        `${found.cancel.outcome === "reversed" ? "reversed it" : "arrived first (tombstone)"} at ${when(found.cancel.created_at)}`,
      ]);
      if (found.cancel.batch_id !== null) pairs.push(["Cancel batch", found.cancel.batch_id]);
    }
    if (found.archived_day) pairs.push(["Archived", `with the day ${found.archived_day} (UTC)`]);
    fillFields(byId("transaction-fields"), pairs);
    const rows = found.entries.map((entry) =>
      el(
        "tr",
        entry.effect === "reverse" ? "reverse" : "",
        el("td", "num muted", display(entry.id)),
        el("td", "nowrap", when(entry.created_at)),
        el("td", "", display(entry.effect)),
        el("td", "", display(entry.type)),
        moneyCell(entry.amount),
        moneyCell(entry.balance_after),
        metadataCell(entry.metadata),
      ),
    );
    byId("transaction-entries").tBodies[0].replaceChildren(...rows);
    byId("transaction-entries").hidden = rows.length === 0;
    byId("transaction-no-entries").hidden = rows.length > 0;
    byId("transaction-result").hidden = false;
  } catch (error) {
    if (search === searches.transaction) showError("transaction-error", error);
  }
}

// Reconciliation: the nightly run's result on the front page; a run on demand (it reads every
// player, and is recorded as a manual run); what disagrees, in two tables.

/** When a recorded run started, and whether the Cron Trigger or an operator started it. */
function runWhen(run) {
  return `${when(run.started_at)} UTC, ${run.trigger === "cron" ? "nightly run" : "manual run"}`;
}

/** A recorded run's when, how and how much, in words. */
function runSummary(run) {
  return (
    `${runWhen(run)}: ${display(run.players_checked)} players and ` +
    `${display(run.transactions_checked)} transaction ids checked in ${display(run.duration_ms)} ms`
  );
}

function showVerdict(id, run) {
  const verdict = byId(id);
  verdict.textContent = run.ok ? "Exact" : `Disagrees: ${display(run.disagreements)}`;
  verdict.className = `badge ${run.ok ? "good" : "bad"}`;
}

/** The front page's line: the last recorded run (GET /admin/reconcile/last), nightly or manual. */
async function showLastRun() {
  const line = byId("last-run");
  hide("last-run-show");
  try {
    const run = await api("/admin/reconcile/last");
    showVerdict("last-run-verdict", run);
    byId("last-run-text").textContent = `${runSummary(run)}.`;
    const show = byId("last-run-show");
    show.hidden = run.ok;
    show.onclick = () => {
      location.hash = "reconcile";
      showReconcileReport(run);
    };
  } catch (error) {
    const none = error instanceof ApiProblem && error.status === 404;
    const verdict = byId("last-run-verdict");
    verdict.textContent = none ? "None yet" : "Unknown";
    verdict.className = "badge warn";
    byId("last-run-text").textContent = none
      ? "No run is recorded yet: the first runs tonight at 00:15 UTC, or run one on the Reconciliation page."
      : `${error.code}: ${error.message}`;
  }
  line.hidden = token() === null;
}

function showReconcileReport(run) {
  hide("reconcile-error");
  showVerdict("reconcile-verdict", run);
  byId("reconcile-counts").textContent =
    `${display(run.players_checked)} players and ${display(run.transactions_checked)} transaction ids checked` +
    (run.ok ? ": every balance is its opening balance plus its ledger." : ".");
  byId("reconcile-when").textContent = `${runWhen(run)}, ${display(run.duration_ms)} ms.`;
  fillTable(
    "reconcile-balances",
    run.balance_mismatches.map((m) => [
      el(
        "td",
        "",
        linkButton(m.player_id, () => findPlayer(m.player_id)),
      ),
      el("td", "num", display(m.balance_minor)),
      el("td", "num", display(m.expected_minor)),
      el("td", "num", difference(m.balance_minor, m.expected_minor)),
    ]),
  );
  fillTable(
    "reconcile-transactions",
    run.transaction_problems.map((p) => [
      el(
        "td",
        "",
        linkButton(p.transaction_id, () => lookUpTransaction(p.transaction_id)),
      ),
      el("td", "", display(p.status)),
      el("td", "num", display(p.applying_entries)),
      el("td", "num", display(p.reversing_entries)),
    ]),
  );
  byId("reconcile-result").hidden = false;
}

async function runReconciliation() {
  hide("reconcile-error", "reconcile-result");
  const button = byId("reconcile-run");
  button.disabled = true;
  try {
    showReconcileReport(await api("/admin/reconcile/run", "POST"));
    await showLastRun();
  } catch (error) {
    showError("reconcile-error", error);
  } finally {
    button.disabled = false;
  }
}

/** The table's body becomes these rows (each a list of cells); a table without rows is hidden. */
function fillTable(id, rows) {
  const table = byId(id);
  table.querySelector("tbody").replaceChildren(...rows.map((cells) => el("tr", "", ...cells)));
  table.hidden = rows.length === 0;
}

/** balance − expected in minor units, exactly (integers as text, through BigInt). */
function difference(balance, expected) {
  try {
    return String(BigInt(String(balance)) - BigInt(String(expected)));
  } catch {
    return "—";
  }
}

// ---------- signing in and out ----------

function showSignedIn(signedIn) {
  byId("sign-in").hidden = signedIn;
  byId("signed-in").hidden = !signedIn;
  byId("signed-out-note").hidden = signedIn;
  byId("pages").hidden = !signedIn;
  byId("last-run").hidden = true;
  for (const section of document.querySelectorAll("main section[data-page]")) {
    if (!signedIn) section.hidden = true;
  }
  if (signedIn) {
    showPage(location.hash.slice(1));
    void showLastRun();
  }
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedIn(false);
  const note = byId("signed-out-note");
  if (reason) note.textContent = reason;
}

function onSubmit(id, handler) {
  byId(id).addEventListener("submit", (event) => {
    event.preventDefault();
    handler();
  });
}

onSubmit("sign-in", () => {
  const input = byId("token");
  sessionStorage.setItem(TOKEN_KEY, input.value);
  input.value = "";
  showSignedIn(true);
});
byId("sign-out").addEventListener("click", () => signOut());
onSubmit("player-form", () => findPlayer(byId("player-id-input").value.trim()));
onSubmit("transaction-form", () => lookUpTransaction(byId("transaction-id-input").value.trim()));
byId("ledger-older").addEventListener("click", () => {
  if (ledgerState.nextBefore !== null)
    showLedgerPage(ledgerState.nextBefore).catch((error) => showError("player-error", error));
});
byId("ledger-newest").addEventListener("click", () => {
  showLedgerPage(undefined).catch((error) => showError("player-error", error));
});
byId("reconcile-run").addEventListener("click", runReconciliation);
onSubmit("transfer-form", transfer);
onSubmit("status-form", setStatus);
byId("revoke-sessions").addEventListener("click", revokeSessions);
onSubmit("daily-form", showDailyReport);
// The report opens on the last 7 UTC days.
byId("daily-to").value = new Date().toISOString().slice(0, 10);
byId("daily-from").value = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
window.addEventListener("hashchange", () => {
  if (token()) showPage(location.hash.slice(1));
});

showSignedIn(token() !== null);
