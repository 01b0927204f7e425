"""Test-only credentials for a locally started cpis-service (used by schemathesis.sh and
tools/fhir-validate): the JWKS of the TEST-ONLY signing key, to pass as CIS2's keys, and opaque
access tokens for dev-idp's users (whom `cpis-service seed` put in the role directory), each
got by exchanging a CIS2-style ID token at /oauth2/token with an RS512 client assertion signed
by the broker's DEV-ONLY key. Needs openssl. Nothing here is a secret: every key is public.

Usage:
  test_tokens.py jwks KEY OUT.json
  test_tokens.py tokens KEY BROKER_KEY WORK_DIR BASE_URL   (writes WORK_DIR/{clinician,la,lead}.token)
"""
import base64
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

ISSUER = "https://idp.test.invalid"
# dev-idp/users.json's users: B0107 clinician (ed-nurse), B1235 local authority user (la-user)
# and B1234 safeguarding lead (named-nurse).
USERS = {
    "clinician": ("900000000001", "Tess Triage-Test", "555000000101"),
    "la": ("900000000005", "Lee Council-Test", "555000000501"),
    "lead": ("900000000003", "Nia Safeguard-Test", "555000000301"),
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write_jwks(key: str, out: str) -> None:
    modulus = subprocess.check_output(["openssl", "rsa", "-in", key, "-noout", "-modulus"])
    n_hex = modulus.decode().strip().split("=")[1]
    jwk = {"kty": "RSA", "n": b64(bytes.fromhex(n_hex)), "e": "AQAB", "kid": "test-rsa",
           "alg": "RS256", "use": "sig"}
    with open(out, "w") as file:
        json.dump({"keys": [jwk]}, file)


def sign(header: dict, claims: dict, pem: str, digest: str) -> str:
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = subprocess.run(["openssl", "dgst", digest, "-sign", pem], input=signing.encode(),
                               capture_output=True, check=True).stdout
    return signing + "." + b64(signature)


def access_token(base: str, key: str, broker_key: str, sub: str, name: str, role: str) -> str:
    now = int(time.time())
    id_token = sign({"alg": "RS256", "typ": "JWT", "kid": "test-rsa"},
                    {"iss": ISSUER, "aud": "cpis-broker", "sub": sub, "name": name,
                     "iat": now, "exp": now + 300, "authentication_assurance_level": "3",
                     "selected_roleid": role}, key, "-sha256")
    token_url = f"{base}/oauth2/token"
    assertion = sign({"alg": "RS512", "typ": "JWT", "kid": "cpis-broker-dev-1"},
                     {"iss": "cpis-broker-dev", "sub": "cpis-broker-dev", "aud": token_url,
                      "jti": str(uuid.uuid4()), "exp": now + 240}, broker_key, "-sha512")
    form = urllib.parse.urlencode({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "subject_token": id_token,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion}).encode()
    with urllib.request.urlopen(urllib.request.Request(token_url, data=form)) as answer:
        return json.load(answer)["access_token"]


def write_tokens(key: str, broker_key: str, work: str, base: str) -> None:
    for user, (sub, name, role) in USERS.items():
        with open(f"{work}/{user}.token", "w") as file:
            file.write(access_token(base, key, broker_key, sub, name, role))


if __name__ == "__main__":
    if sys.argv[1:2] == ["jwks"] and len(sys.argv) == 4:
        write_jwks(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["tokens"] and len(sys.argv) == 6:
        write_tokens(*sys.argv[2:6])
    else:
        sys.exit(__doc__)
