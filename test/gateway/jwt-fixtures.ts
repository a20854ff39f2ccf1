/** Minting JWTs in tests with WebCrypto: base64url, the RSA and EC test key pairs, and a signer. */

const enc = new TextEncoder();

/** base64url without padding, of bytes or of a UTF-8 string. */
export const b64url = (data: Uint8Array | string): string =>
  btoa(String.fromCharCode(...(typeof data === "string" ? enc.encode(data) : data)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/** base64url of a value's JSON. */
export const json64 = (value: unknown): string => b64url(JSON.stringify(value));

/** RS256 and ES256 key pairs, with their public JWKs (kids `rsa-1` and `ec-1`). */
export interface TestKeys {
  rsa: CryptoKeyPair;
  ec: CryptoKeyPair;
  rsaJwk: JsonWebKey & { kid: string };
  ecJwk: JsonWebKey & { kid: string };
}

/** Generates fresh {@link TestKeys} (call in `beforeAll`). */
export async function generateTestKeys(): Promise<TestKeys> {
  const rsaParams = {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  };
  const rsa = (await crypto.subtle.generateKey(rsaParams, true, ["sign", "verify"])) as CryptoKeyPair;
  const ec = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const rsaJwk = {
    ...((await crypto.subtle.exportKey("jwk", rsa.publicKey)) as JsonWebKey),
    kid: "rsa-1",
    alg: "RS256",
    use: "sig",
  };
  const ecJwk = {
    ...((await crypto.subtle.exportKey("jwk", ec.publicKey)) as JsonWebKey),
    kid: "ec-1",
    alg: "ES256",
    use: "sig",
  };
  return { rsa, ec, rsaJwk, ecJwk };
}

/** Options of {@link signJwt}. */
export interface SignOptions {
  kid?: string;
  /** HS256 key (any bytes). */
  secret: Uint8Array | string;
  /** Extra header fields. */
  header?: Record<string, unknown>;
}

/** Signs `payload` with HS256 (`opts.secret`), RS256 or ES256 (the test key pairs). */
export async function signJwt(
  keys: TestKeys,
  alg: "HS256" | "RS256" | "ES256",
  payload: Record<string, unknown>,
  opts: SignOptions,
): Promise<string> {
  const header = { alg, typ: "JWT", ...(opts.kid ? { kid: opts.kid } : {}), ...opts.header };
  const input = `${json64(header)}.${json64(payload)}`;
  let sig: ArrayBuffer;
  if (alg === "HS256") {
    const raw = typeof opts.secret === "string" ? enc.encode(opts.secret) : opts.secret;
    const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    sig = await crypto.subtle.sign("HMAC", key, enc.encode(input));
  } else if (alg === "RS256") {
    sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.rsa.privateKey, enc.encode(input));
  } else {
    sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.ec.privateKey, enc.encode(input));
  }
  return `${input}.${b64url(new Uint8Array(sig))}`;
}
