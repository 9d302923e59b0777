/**
 * Words a query uses for grammar or to frame the request ("find scenes where
 * they talk about …"). They are dropped from transcript terms: searching the
 * transcript for "the" or "talk" would match every clip. Quoted phrases keep
 * them ("in the park").
 */
const GRAMMAR = `
a an the this that these those there here
i me my mine we us our you your he him his she her it its they them their
is am are was were be been being do does did done doing have has had having
will would shall should can could may might must
and or but nor so if then than because as of at by for from in into on onto
out over under up down off to with without within about above below between
through during before after again until while upon via per
not no yes all any some each every both either neither other another such
what which who whom whose when where why how
very just only also too more most much many few lot lots
s t ll ve re d m
`;

const FRAMING = `
find finds finding found show shows showing shown give get look looking search searching
locate list see seen watch watching want need please let
scene scenes clip clips part parts moment moments segment segments video videos footage
frame frames shot shots time times point points place places section sections bit
talk talks talking talked speak speaks speaking spoke discuss discusses discussing discussed
mention mentions mentioned mentioning say says said saying tell tells told
appear appears appearing appeared visible seen containing contain contains contained
featuring feature features include includes including
thing things something anything everything stuff kind sort
`;

const toSet = (text: string): ReadonlySet<string> => new Set(text.split(/\s+/).filter(Boolean));

export const STOP_WORDS: ReadonlySet<string> = toSet(GRAMMAR);
export const FRAMING_WORDS: ReadonlySet<string> = toSet(FRAMING);

/** True for words that never become transcript terms. */
export function isIgnorable(word: string): boolean {
  return STOP_WORDS.has(word) || FRAMING_WORDS.has(word);
}
