// Frontdesk widget loader. The full launcher and chat panel arrive with the UI work.
(function () {
  "use strict";
})();
