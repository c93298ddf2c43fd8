// Hearth manager's web app: progressive enhancement only; every page
// works without this script.
"use strict";
