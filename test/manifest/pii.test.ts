/**
 * PII detection (workers/shared/safety/pii.ts), runtime-neutral so it runs here in Node: property-style cases
 * for each kind (a valid Luhn card is found and one with a wrong check digit is not, an IBAN with its mod-97
 * check digits is and one with others is not, …), the look-alikes that must not count as phone numbers (ISO
 * dates, versions, short integers), redaction of text and JSON, and the manifest's names for the kinds.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  findPii,
  formatPiiKinds,
  parsePiiKinds,
  piiKindOf,
  redactJson,
  redactText,
  scanJson,
} from "../../workers/shared/safety/pii";

const kindsIn = (text: string) => findPii(text).kinds;

/** The Luhn check digit that completes `body`. */
function luhnDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** `country` + mod-97 check digits + `bban`. */
function iban(country: string, bban: string, check?: string): string {
  const digits = [...`${bban}${country}00`].map((c) => (/\d/.test(c) ? c : String(c.charCodeAt(0) - 55))).join("");
  let rest = 0;
  for (const ch of digits) rest = (rest * 10 + Number(ch)) % 97;
  return `${country}${check ?? String(98 - rest).padStart(2, "0")}${bban}`;
}

const digitString = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(""));

describe("cards", () => {
  const cardBody = fc
    .tuple(fc.integer({ min: 3, max: 6 }), digitString(11, 17))
    .map(([first, rest]) => `${first}${rest}`);

  it("a number of 13–19 digits with a valid Luhn check digit is a card, spaced or not", () => {
    fc.assert(
      fc.property(cardBody, fc.constantFrom("", " ", "-"), (body, sep) => {
        const number = `${body}${luhnDigit(body)}`;
        fc.pre(!/^(\d)\1*$/.test(number));
        const spaced = number.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
        expect(findPii(`paid with ${spaced} today`).matches).toEqual([
          { kind: "card", start: 10, end: 10 + spaced.length },
        ]);
      }),
    );
  });

  it("the same number with any other check digit is not a card", () => {
    fc.assert(
      fc.property(cardBody, fc.integer({ min: 1, max: 9 }), (body, delta) => {
        const number = `${body}${(luhnDigit(body) + delta) % 10}`;
        expect(kindsIn(`paid with ${number} today`)).not.toContain("card");
      }),
    );
  });

  it("a card-number integer in JSON is found and redacted whole", () => {
    expect(scanJson({ n: 4111111111111111 })).toEqual(["card"]);
    expect(redactJson({ n: 4111111111111111, m: 4111111111111112 })).toEqual({
      n: "[REDACTED:card]",
      m: 4111111111111112,
    });
  });
});

describe("IBANs", () => {
  const bban = fc
    .array(fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), { minLength: 11, maxLength: 30 })
    .map((c) => c.join(""));
  const country = fc.constantFrom("DE", "GB", "FR", "NL", "ES", "IT", "CH");

  it("country code + mod-97 check digits + BBAN is an IBAN, grouped by 4 or not", () => {
    fc.assert(
      fc.property(country, bban, fc.boolean(), (cc, b, grouped) => {
        const value = iban(cc, b);
        const text = grouped ? value.replace(/(.{4})(?=.)/g, "$1 ") : value;
        expect(findPii(`IBAN: ${text}.`).matches).toEqual([{ kind: "iban", start: 6, end: 6 + text.length }]);
      }),
    );
  });

  it("the same with wrong check digits is not", () => {
    fc.assert(
      fc.property(country, bban, fc.integer({ min: 2, max: 98 }), (cc, b, check) => {
        const value = iban(cc, b, String(check).padStart(2, "0"));
        fc.pre(value !== iban(cc, b));
        expect(kindsIn(`IBAN: ${value}.`)).not.toContain("iban");
      }),
    );
  });

  it("known examples", () => {
    expect(kindsIn("DE89 3704 0044 0532 0130 00")).toEqual(["iban"]);
    expect(kindsIn("GB82WEST12345698765432")).toEqual(["iban"]);
    expect(kindsIn("GB82WEST12345698765433")).toEqual([]);
  });
});

describe("emails", () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  it("local@domain.tld is found with its exact span", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,20}$/),
        label,
        fc.constantFrom("com", "io", "co.uk"),
        (local, domain, tld) => {
          const email = `${local}@${domain}.${tld}`;
          expect(findPii(`mail ${email}, please`).matches).toEqual([
            { kind: "email", start: 5, end: 5 + email.length },
          ]);
        },
      ),
    );
  });

  it("an @ without a domain is not", () => {
    expect(kindsIn("@handle and user@localhost and a@b")).toEqual([]);
  });
});

describe("phone numbers", () => {
  it("international and common national formats", () => {
    for (const phone of [
      "+14155552671",
      "+1 415 555 2671",
      "+44 20 7946 0958",
      "+33 6 12 34 56 78",
      "+1 (415) 555-2671",
      "(415) 555-2671",
      "415-555-2671",
      "415.555.2671",
      "020 7946 0958",
      "06 12 34 56 78",
    ])
      expect(findPii(`call ${phone}.`).matches, phone).toEqual([{ kind: "phone", start: 5, end: 5 + phone.length }]);
  });

  it("ISO and other dates are not", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("1900-01-01"), max: new Date("2100-12-31"), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        const [y, m, day] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
        for (const text of [iso, iso.slice(0, 10), `${day}.${m}.${y}`, `${m}/${day}/${y}`, `${y} ${m} ${day}`])
          expect(kindsIn(`on ${text} we met`), text).toEqual([]);
      }),
    );
  });

  it("version numbers, short integers and plain digit runs are not", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 99 }), { minLength: 2, maxLength: 4 }), (parts) => {
        expect(kindsIn(`version ${parts.join(".")} and v${parts.join(".")}`)).not.toContain("phone");
      }),
    );
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(kindsIn(`order ${n} shipped`)).toEqual([]);
      }),
    );
    expect(kindsIn("10.0.19041, 1 000 000, ISBN 978-3-16-148410-0, 2023-2024, 12345-6789, 12:30:45")).toEqual([]);
  });
});

describe("IP addresses", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  it("every valid IPv4 address is found; an octet over 255 is not", () => {
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), (o) => {
        expect(findPii(`from ${o.join(".")}.`).kinds).toEqual(["ip"]);
      }),
    );
    expect(kindsIn("from 256.1.1.1 and 1.2.3.999")).toEqual([]);
  });

  it("IPv6, full or compressed, with an IPv4 tail", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), (groups) => {
        const full = groups.map((g) => g.toString(16)).join(":");
        fc.pre(/\d/.test(full));
        expect(findPii(`host ${full} up`).matches).toEqual([{ kind: "ip", start: 5, end: 5 + full.length }]);
      }),
    );
    for (const ip of ["2001:db8::8a2e:370:7334", "::1", "fe80::1", "::ffff:192.0.2.1"])
      expect(kindsIn(ip), ip).toEqual(["ip"]);
    expect(kindsIn("12:30:45, std::vector, a::b, 00:1A:2B:3C:4D:5E")).toEqual([]);
  });
});

describe("redaction", () => {
  it("replaces each match with its placeholder and leaves nothing detectable", () => {
    const text = "alice@example.com, +44 20 7946 0958, 4111 1111 1111 1111, DE89370400440532013000, 10.0.0.1";
    expect(redactText(text)).toBe(
      "[REDACTED:email], [REDACTED:phone], [REDACTED:card], [REDACTED:iban], [REDACTED:ip]",
    );
    expect(findPii(redactText(text)).matches).toEqual([]);
    expect(redactText(text, ["email"])).toBe(`[REDACTED:email]${text.slice(17)}`);
  });

  it("a card number is a card, never a phone number, whatever kinds are asked for", () => {
    expect(findPii("4111 1111 1111 1111", ["phone"]).matches).toEqual([]);
  });

  it("redactJson copies values only: keys, order, other types and the input are kept", () => {
    const input = JSON.parse(
      '{"__proto__":"a@b.io","z":[1,"c@d.io",null,true],"a@b.io":{"deep":["+1 415 555 2671"]}}',
    ) as unknown;
    const before = JSON.stringify(input);
    const out = redactJson(input);
    expect(JSON.stringify(out)).toBe(
      '{"__proto__":"[REDACTED:email]","z":[1,"[REDACTED:email]",null,true],"a@b.io":{"deep":["[REDACTED:phone]"]}}',
    );
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(input)).toBe(before);
    expect(scanJson(input)).toEqual(["email", "phone"]);
  });

  it("walks any depth without recursion", () => {
    let deep: unknown = "x@y.io";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(scanJson(deep)).toEqual(["email"]);
    let out = redactJson(deep);
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    expect(out).toBe("[REDACTED:email]");
  });
});

describe("kind names", () => {
  it("maps the manifest's names onto the kinds; others are unknown", () => {
    expect(
      ["email", "Email-Address", "phone_number", "credit card", "IBAN", "ip_address", "ipv6"].map(piiKindOf),
    ).toEqual(["email", "email", "phone", "card", "iban", "ip", "ip"]);
    expect(["ssn", "name", "address", "passport", "__proto__"].map(piiKindOf)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("the header value: deduplicated, in a fixed order; unknown names dropped when read", () => {
    expect(formatPiiKinds(["ip", "email", "ip"])).toBe("email,ip");
    expect(parsePiiKinds(" ip ,email,ssn,")).toEqual(["email", "ip"]);
    expect(parsePiiKinds(null)).toEqual([]);
  });
});
