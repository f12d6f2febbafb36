import { describe, expect, it } from 'vitest';
import { checkGreetingMismatch, greetedNames } from './greeting.check.ts';
import { DEFAULT_RULE_CHECK_SETTINGS as settings } from './settings.ts';
import { buildDraft, buildTestView, contact, recipient } from './test-view.ts';

const view = buildTestView({
  contacts: {
    'alice@acme.com': [
      contact('sarah.jones@partner.com', 20, 10, 'Sarah Jones'),
      contact('sarah.k@other.org', 2, 0),
      contact('tom@acme.com', 5, 5, 'Tom Baker'),
    ],
  },
});
const names = (body: string) => greetedNames(body).map((n) => n.text);
const check = (body: string, ...recipients: string[]) => checkGreetingMismatch(buildDraft({ body, recipients: recipients.map((r) => recipient(r)) }), view, settings);

describe('greetedNames', () => {
  it('does read names from greetings in several languages, with titles and lists', () => {
    expect(names('Hi Sarah,\n\nthe figures…')).toEqual(['Sarah']);
    expect(names('Dear Mr Smith,')).toEqual(['Smith']);
    expect(names('Hello Sarah and Tom,')).toEqual(['Sarah', 'Tom']);
    expect(names('Hi Sarah, Tom & Anne!')).toEqual(['Sarah', 'Tom', 'Anne']);
    expect(names('Bonjour Éloïse,')).toEqual(['Éloïse']);
    expect(names('Hallo Jörg')).toEqual(['Jörg']);
    expect(names('Good morning Dr. Müller-Lüdenscheidt,')).toEqual(['Müller-Lüdenscheidt']);
    expect(names('hi sarah,')).toEqual(['sarah']);
    expect(names('\n\nThanks.\nHi Sarah, hope you are well.')).toEqual(['Sarah']);
  });

  it('does not read names from group greetings or ordinary sentences', () => {
    for (const body of ['Hi all,', 'Hi team,', 'Dear colleagues,', 'Hello everyone!', 'Dear Sir or Madam,', 'Hallo zusammen,', 'Bonjour à tous,',
      'Hi there,', 'Hello,', 'Hi, thanks for this.', 'Hi Sarah and all,', 'This is his report.', 'Highlights below', '> Hi Sarah,\nsee below',
      'Hello thanks for the update']) {
      expect(names(body).filter((n) => n !== 'Sarah'), body).toEqual([]);
    }
    expect(names('Hi Sarah, hope you are well')).toEqual(['Sarah']);
  });
});

describe('checkGreetingMismatch', () => {
  it('does warn when the greeting names someone who is not a recipient, and suggests the contact', () => {
    const [w] = check('Hi Sarah,\nPlease see attached.', 'bob@partner.com');
    expect(w).toMatchObject({ check: 'greeting_mismatch', severity: 'warning', recipients: ['bob@partner.com'] });
    expect(w!.reason).toBe('Your greeting names Sarah, but no recipient has that name.');
    expect(w!.fixes).toEqual([{ kind: 'add_recipient', address: 'sarah.jones@partner.com' }, { kind: 'add_recipient', address: 'sarah.k@other.org' }]);
  });

  it('does name only the missing people of a list', () => {
    expect(check('Hello Sarah and Tom,', 'sarah.jones@partner.com')[0]!.reason).toBe('Your greeting names Tom, but no recipient has that name.');
    expect(check('Hi Zed,', 'bob@partner.com')[0]!.fixes).toEqual([]);
  });

  it('does match display names and local parts, case- and accent-insensitively', () => {
    expect(check('Hi Sarah,', 'Sarah Jones <sj@partner.com>')).toEqual([]);
    expect(check('Hi SARAH,', 'sarah.jones@partner.com')).toEqual([]);
    expect(check('Dear Mr Smith,', 'jsmith@client.com')).toEqual([]);
    expect(check('Hi Sarah,', 'sarah1985@gmail.com')).toEqual([]);
    expect(check('Bonjour Éloïse,', 'eloise.martin@exemple.fr')).toEqual([]);
    expect(check('Bonjour Eloise,', 'Éloïse Martin <em@exemple.fr>')).toEqual([]);
    expect(check('Hallo Jörg,', 'joerg.mueller@firma.de')).toEqual([]);
    expect(check('Hallo Jörg,', 'jörg@müller.de')).toEqual([]);
    expect(check('Hi Wei,', '王伟 <wang.wei@例子.广告>')).toEqual([]);
    expect(check('Hi Bob,', 'robert.brown@partner.com')).toEqual([]);
    expect(check('Hi Chris,', 'christopher.lee@partner.com')).toEqual([]);
    expect(check('Hi Sarah and Tom,', 'sarah.jones@partner.com', 'Tom Baker <tb@acme.com>')).toEqual([]);
  });

  it('does warn for internationalised names too', () => {
    expect(check('Hallo Jörg,', 'anna@firma.de')[0]!.reason).toBe('Your greeting names Jörg, but no recipient has that name.');
    expect(check('Hi Wei,', '用户@例子.广告')[0]!.reason).toContain('Wei');
  });

  it('does not warn for group greetings, the sender\'s own name, or no greeting', () => {
    for (const body of ['Hi all,', 'Dear colleagues,', 'Hello everyone,', 'Hi team!', 'Hi Alice, note to self', 'Please find attached.']) {
      expect(check(body, 'bob@partner.com'), body).toEqual([]);
    }
  });
});
