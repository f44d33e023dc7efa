// The team page's words (issue 15: editing an account, confirming before disabling), added to
// the shared table of /shared/i18n.js like /console/texts.js: `{name}` placeholders are
// filled with plain text.

import { addTexts } from "/shared/i18n.js";

addTexts("en", {
  "staff.add_title": "Add staff member",
  "staff.edit_title": "Edit {name}",
  "staff.edit": "Edit",
  "staff.edit_who": "Edit {name}",
  "staff.create": "Create account",
  "staff.save": "Save changes",
  "staff.created": "Account created for {name}.",
  "staff.saved": "Saved the account of {name}.",
  "staff.need_name": "Enter the person's full name.",
  "staff.need_email": "Enter a valid email address.",
  "staff.need_password": "The password needs at least 8 characters.",
  "staff.enable": "Enable",
  "staff.disable": "Disable",
  "staff.enabled": "{name} can sign in again.",
  "staff.disabled": "{name} can no longer sign in.",
  "staff.disable_title": "Disable {name}?",
  "staff.disable_text": "{name} is signed out everywhere at once and can no longer sign in. Their open chats go back to the queue. You can enable the account again later.",
});
