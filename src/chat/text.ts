// Message text as QuickBlox stores it: characters XML 1.0 cannot carry are dropped, so that a body
// saved through REST can always be relayed over XMPP (QuickBlox changelog 3.17.02.1).

// Controls other than tab/LF/CR, U+FFFE/U+FFFF, and surrogates that are not part of a pair.
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function stripXmlInvalid(text: string): string {
  return text.replace(XML_INVALID, '');
}
