// CSV as RFC 4180 writes it: fields separated by commas, rows ended by CRLF, and a field that holds
// a comma, a double quote, a CR or an LF enclosed in double quotes, its quotes doubled. Ids and
// metadata are the callers' own strings, so any of those can occur; quoted, every row still parses
// back to the same fields.
//
// Values that begin with =, +, - or @ are written as they are: the export is a record for finance
// and audit tools, and a negative amount begins with "-". Escaping them against spreadsheet formula
// injection would change the data; whoever opens the file in a spreadsheet should import it as text.

const NEEDS_QUOTES = /[",\r\n]/;

function field(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV record, CRLF-terminated. */
export function csvRow(values: readonly string[]): string {
  return `${values.map(field).join(",")}\r\n`;
}
