// culex pub / sub / rr: command lines, output formats and golden comparisons with mosquitto_pub / _sub / _rr.
import './cli/pub-sub-args.test.js';
import './cli/sub-format.test.js';
import './cli/sub-golden.test.js';
import './cli/pub-golden.test.js';
import './cli/pub-client-cert.test.js';
import './cli/rr.test.js';
