/**
 * Entry file for authentication and authorization: password hashes and files, ACL files, JWT, the auth chain in a
 * running broker, the login back-off, and interop with Mosquitto's tools. One process for the whole area.
 */
import './auth/password.test.js';
import './auth/acl.test.js';
import './auth/chain.test.js';
import './auth/jwt.test.js';
import './auth/backoff.test.js';
import './auth/cli-auth.test.js';
import './auth/mosquitto-interop.test.js';
import './cli/passwd.test.js';
