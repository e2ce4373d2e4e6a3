import { headersAsText, headersFromText, type HeaderList } from './headers';

describe('the dead letter headers text view', () => {
  it('reads back as the list it was made from: repeated keys in order, __proto__ kept', () => {
    const list: HeaderList = [
      ['__proto__', Buffer.from('kept')],
      ['trace', Buffer.from('first')],
      ['trace', Buffer.from('second')],
      ['tenant', Buffer.from('ünï')],
    ];
    expect(headersFromText(headersAsText(list))).toEqual(list);
  });

  it('reads no view as no headers', () => {
    expect(headersFromText(null)).toEqual([]);
    expect(headersFromText(undefined)).toEqual([]);
  });
});
