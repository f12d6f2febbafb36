// greeting_mismatch: the body opens with "Hi Sarah," but no recipient is Sarah. Names are
// matched case- and accent-insensitively against each recipient's display name and local part
// (sarah.jones, sjones, sarah1985), with common short forms (Bob for Robert).
import type { ContactStats, Draft, DraftRecipient, SmartView, SuggestedFix, Warning } from '../prevent.model.ts';
import type { RuleCheckSettings } from './settings.ts';
import { fold, foldGerman, listText, nameTokens } from './text.ts';

// Greeting words, longest first so "good morning" wins over "morning". Latin-script languages
// only: names in other scripts are compared, greetings in them are not yet recognised.
const GREETINGS = [
  'good morning', 'good afternoon', 'good evening', 'guten morgen', 'guten tag', 'buenos dias', 'buenas tardes',
  'bom dia', 'boa tarde', 'god morgen', 'goede morgen', 'goedemorgen', 'dearest', 'dear', 'hello', 'hallo', 'hiya',
  'hey', 'hi', 'morning', 'afternoon', 'evening', 'greetings', 'bonjour', 'bonsoir', 'salut', 'cher', 'chere',
  'liebe', 'lieber', 'moin', 'servus', 'hola', 'querido', 'querida', 'estimado', 'estimada', 'ciao', 'buongiorno',
  'caro', 'cara', 'gentile', 'ola', 'oi', 'prezado', 'prezada', 'hej', 'hoi', 'beste', 'dag',
];
const GREETING = new RegExp(`^(?:${GREETINGS.map((g) => g.replace(' ', '\\s+')).join('|')})(?![\\p{L}])[\\s,]*`, 'u');

// Words that address a group or nobody in particular: "Hi all", "Dear colleagues", "Hallo zusammen".
const GENERIC = new Set([
  'all', 'team', 'everyone', 'everybody', 'colleagues', 'colleague', 'there', 'folks', 'guys', 'both', 'yall', "y'all",
  'you', 'sir', 'sirs', 'madam', 'madame', 'friends', 'friend', 'customer', 'customers', 'client', 'clients', 'partner',
  'partners', 'gents', 'ladies', 'gentlemen', 'people', 'crew', 'group', 'committee', 'board', 'again', 'whom', 'to',
  'zusammen', 'alle', 'allerseits', 'kollegen', 'kolleginnen', 'kollegin', 'kollege', 'leute', 'tous', 'toutes', 'a',
  'todos', 'todas', 'tutti', 'equipe', 'equipo', 'iedereen', 'allemaal', 'allen', 'world', 'members', 'member',
  'support', 'sales', 'hr', 'recruiter', 'manager', 'mum', 'mom', 'dad', 'mate', 'love', 'my', 'our', 'the',
]);

// Titles before a surname: "Dear Mr Smith", "Sehr geehrte Frau Müller", "Bonjour Mme Durand".
const TITLES = new Set([
  'mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'professor', 'sir', 'dame', 'herr', 'frau', 'monsieur', 'mme', 'mlle',
  'm', 'sr', 'sra', 'srta', 'sig', 'sigra', 'dott', 'dottssa', 'senor', 'senora', 'dhr', 'mevr', 'rev', 'fr', 'lord', 'lady',
]);

// Short forms that are not prefixes of the full name (prefixes such as Alex, Chris are matched anyway).
const SHORT_FORMS: Record<string, string[]> = {
  bob: ['robert'], rob: ['robert'], bobby: ['robert'], bill: ['william'], will: ['william'], billy: ['william'], liam: ['william'],
  jim: ['james'], jimmy: ['james'], mike: ['michael'], mick: ['michael'], dave: ['david'], tom: ['thomas'], tommy: ['thomas'],
  kate: ['katherine', 'catherine', 'kathryn'], katie: ['katherine', 'catherine'], kathy: ['katherine', 'kathryn'], cathy: ['catherine'],
  liz: ['elizabeth'], beth: ['elizabeth'], betty: ['elizabeth'], lizzie: ['elizabeth'], joe: ['joseph'], andy: ['andrew'],
  drew: ['andrew'], pete: ['peter'], rick: ['richard'], dick: ['richard'], rich: ['richard'], ted: ['edward'], ned: ['edward'],
  steve: ['stephen', 'steven'], tony: ['anthony'], sue: ['susan', 'suzanne'], peggy: ['margaret'], maggie: ['margaret'],
  meg: ['margaret'], jack: ['john'], johnny: ['john'], harry: ['henry', 'harold'], hank: ['henry'], chuck: ['charles'],
  charlie: ['charles'], larry: ['lawrence'], becky: ['rebecca'], sandy: ['sandra', 'alexandra'], vicky: ['victoria'],
  jenny: ['jennifer'], abby: ['abigail'], nate: ['nathan', 'nathaniel'], ben: ['benjamin'], sam: ['samuel', 'samantha'],
  jo: ['joanne', 'joanna', 'josephine'], fred: ['frederick'], gerry: ['gerald'], jerry: ['gerald', 'jeremy'], patty: ['patricia'],
  trish: ['patricia'], sepp: ['josef'], hansi: ['hans'], paco: ['francisco'], pepe: ['jose'],
};

// Connectors between names: "Sarah and Tom", "Sarah & Tom", "Jörg und Anna", "Éloïse et Marc".
const CONNECTOR = /\s*(?:,|&|\+|\/|\s(?:and|und|et|y|e|en|og|och|i|or|ou|oder)\s)\s*/iu;

/** A name the greeting addresses: as written, and as lower-case tokens without titles. */
export interface GreetedName {
  text: string;
  tokens: string[];
}

/** Names addressed by the greeting in the first lines of the body; [] when there is none. */
export function greetedNames(body: string, lines = 3): GreetedName[] {
  const first = body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('>'))
    .slice(0, lines);
  for (const line of first) {
    const greeting = GREETING.exec(fold(line));
    if (!greeting) continue;
    const rest = cutAfterGreeting(line, greeting[0].length);
    // "Dr." and "Mrs." end with a dot that does not end the greeting.
    const clause = rest.replace(/(?<=\b(?:mr|mrs|ms|dr|prof|mme|mlle|sr|sra|srta|sig|dott|rev|st|m))\./giu, '').split(/[!?:;.\u2014\u2013]|\s-\s/)[0] ?? '';
    // Names are capitalised ("Hi Sarah, hope…" stops at "hope"); someone typing all in lower
    // case ("hi sarah,") gets the benefit of the doubt.
    const casual = !/\p{Lu}/u.test(line);
    const names: GreetedName[] = [];
    for (const segment of clause.split(CONNECTOR)) {
      const words = segment.trim().split(/\s+/).filter((w) => w.length > 0);
      if (words.length === 0) continue;
      // Lower-cased but not folded, so "Jörg" can still become "joerg" as well as "jorg" when matched.
      const tokens = words.flatMap((w) => w.normalize('NFC').toLowerCase().split(/[^\p{L}\p{N}']+/u)).filter((t) => t.length > 0);
      if (tokens.some((t) => GENERIC.has(fold(t)))) break; // "Hi all", "Hi Sarah and team"
      if (words.length > 3 || !words.every((w) => casual || /^\p{Lu}/u.test(w) || TITLES.has(fold(w).replace(/\./g, '')))) break;
      const name = tokens.filter((t) => !TITLES.has(fold(t)) && t.length >= 2 && !/^\d+$/.test(t));
      if (name.length > 0) names.push({ text: words.filter((w) => !TITLES.has(fold(w).replace(/\./g, ''))).join(' '), tokens: name });
    }
    return names;
  }
  return [];
}

// The original line after the greeting: skip as many letters as the folded greeting had,
// then any spaces and commas.
function cutAfterGreeting(line: string, foldedLength: number): string {
  let i = 0;
  let folded = 0;
  while (i < line.length && folded < foldedLength) {
    folded += fold(line[i]!).length;
    i++;
  }
  return line.slice(i).replace(/^[\s,]+/, '');
}

/** The forms a name token may take in an address or display name. */
function keysOf(token: string): string[] {
  let keys = keyCache.get(token);
  if (!keys) {
    keys = [...new Set([fold(token), foldGerman(token), ...(SHORT_FORMS[fold(token)] ?? [])])];
    if (keyCache.size >= 10_000) keyCache.clear();
    keyCache.set(token, keys);
  }
  return keys;
}
const keyCache = new Map<string, string[]>();

interface Addressee {
  words: string[];
  letters: string[];
}

// What a person answers to, derived once per (name, address) and reused across drafts.
const addresseeCache = new Map<string, Addressee>();

function addresseeOf(name: string | undefined, address: string): Addressee {
  const key = `${address}\n${name ?? ''}`;
  let a = addresseeCache.get(key);
  if (!a) {
    const local = address.slice(0, Math.max(0, address.lastIndexOf('@'))).normalize('NFC').toLowerCase();
    const localTokens = nameTokens(local.replace(/[._+\-\d]+/g, ' '));
    const nameWords = nameTokens(name ?? '');
    a = {
      words: [...new Set([...nameWords, ...nameWords.map(foldGerman), ...localTokens, ...localTokens.map(foldGerman)])],
      letters: [fold(local).replace(/[^\p{L}]/gu, ''), foldGerman(local).replace(/[^\p{L}]/gu, '')],
    };
    if (addresseeCache.size >= 50_000) addresseeCache.clear();
    addresseeCache.set(key, a);
  }
  return a;
}

/** Whether someone (display name and address) answers to one greeted token. */
function answersTo(token: string, name: string | undefined, address: string): boolean {
  const a = addresseeOf(name, address);
  return keysOf(token).some((k) =>
    a.words.includes(k) ||
    // "Chris" for christopher, "Samantha" for sam
    a.words.some((t) => (k.length >= 3 && t.startsWith(k)) || (t.length >= 3 && k.startsWith(t))) ||
    (k.length >= 3 && a.letters.some((l) => l.startsWith(k) || l.endsWith(k))), // sarahj@, jsmith@
  );
}

const answersToName = (tokens: string[], name: string | undefined, address: string) =>
  tokens.some((t) => answersTo(t, name, address));

/**
 * One `warning` per draft whose greeting names someone who is not a recipient. Recipients
 * concerned: the To recipients (whom the message was written for). A contact of the sender who
 * answers to the name is suggested as an additional recipient (the most-used first, up to two).
 */
export function checkGreetingMismatch(draft: Draft, view: SmartView, settings: RuleCheckSettings): Warning[] {
  const names = greetedNames(draft.body, settings.greetingLines);
  if (names.length === 0) return [];
  const everyone: Pick<DraftRecipient, 'address' | 'name'>[] = draft.recipients;
  const missing = names.filter(
    (n) => !everyone.some((r) => answersToName(n.tokens, r.name, r.address)) && !answersToName(n.tokens, undefined, draft.from),
  );
  if (missing.length === 0) return [];

  const fixes: SuggestedFix[] = [];
  let contacts: ContactStats[] | undefined;
  for (const n of missing) {
    contacts ??= [...view.contacts(draft.from)].sort((a, b) => 2 * b.sent + b.received - (2 * a.sent + a.received));
    for (const c of contacts.filter((c) => answersToName(n.tokens, c.name, c.address)).slice(0, 2)) {
      if (!fixes.some((f) => f.kind === 'add_recipient' && f.address === c.address)) fixes.push({ kind: 'add_recipient', address: c.address });
    }
  }
  const shown = missing.map((n) => n.text);
  const to = draft.recipients.filter((r) => r.role === 'to').map((r) => r.address);
  return [{
    check: 'greeting_mismatch',
    severity: 'warning',
    recipients: to,
    reason: `Your greeting names ${listText(shown)}, but no recipient ${missing.length === 1 ? 'has that name' : 'has those names'}.`,
    fixes,
  }];
}
