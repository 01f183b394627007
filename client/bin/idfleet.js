#!/usr/bin/env node
// The built CLI (npm run build; npm ci runs it as prepare).
import "../dist/client/src/cli/idfleet.js";
