import { describe, expect, it } from 'vitest';
import { csvCell, csvRow } from './csv.ts';

describe('csvCell', () => {
  it('does quote every cell and double the quotes inside', () => {
    expect(csvCell('plain')).toBe('"plain"');
    expect(csvCell('say "hi", then, go\nnext line')).toBe('"say ""hi"", then, go\nnext line"');
    expect(csvCell(null)).toBe('""');
    expect(csvCell(undefined)).toBe('""');
    expect(csvCell(42)).toBe('"42"');
  });

  it('does neutralise cells a spreadsheet would run as a formula', () => {
    for (const evil of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(csvCell(evil)).toBe(`"'${evil.replace(/"/g, '""')}"`);
    }
    expect(csvCell('a=b')).toBe('"a=b"');
    expect(csvCell('{"x":"=1"}')).toBe('"{""x"":""=1""}"');
  });
});

describe('csvRow', () => {
  it('does join cells with commas and end the record with CRLF', () => {
    expect(csvRow(['a', null, '=x'])).toBe('"a","","\'=x"\r\n');
  });
});
