// The one error of the BOLT12 codec. Every malformed or rule-breaking string, TLV stream or field
// throws it, with a message naming the field and the rule; nothing else escapes the decoders.

export class Bolt12Error extends Error {
  override name = 'Bolt12Error';
}
