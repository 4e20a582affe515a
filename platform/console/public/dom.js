/** DOM building for the console: every value becomes a text node or an attribute, never parsed as HTML. */

/**
 * Creates an element. Props starting with `on` add listeners, `class` sets the class, anything else is
 * an attribute (true: present, false/null/undefined: absent). Children are nodes or values; values
 * become text nodes, so a subject like `<img src=x onerror=…>` shows as those characters.
 * @example h("td", {}, entry.subject)
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Appends values and nodes as {@link h} does. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An SVG element (the statistics chart). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  append(el, children);
  return el;
}

/**
 * A plain button (`type="button"`) that calls `onclick`; `cls` is its class (`secondary`, `danger`).
 * @example button("Release", () => release(entry), "secondary")
 */
export function button(label, onclick, cls) {
  return h("button", { type: "button", class: cls, onclick }, label);
}

let fieldCounter = 0;

/**
 * A labelled input: `<label for>` tied to the input by a generated id.
 * @example field("Subject", { name: "subject" })
 */
export function field(label, { type = "text", options = [], ...attrs } = {}) {
  const id = `f${++fieldCounter}`;
  const input =
    type === "select"
      ? h(
          "select",
          { id, ...attrs },
          options.map(([value, text]) => h("option", { value }, text)),
        )
      : h("input", { id, type, ...attrs });
  return h(
    "div",
    { class: type === "checkbox" ? "field inline" : "field" },
    type === "checkbox" ? [input, h("label", { for: id }, label)] : [h("label", { for: id }, label), input],
  );
}

/** A table with a caption, header row and one row per item. */
export function table(caption, headers, rows) {
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headers.map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length }, "Nothing to show.")),
    ),
  );
}

/**
 * The two fields that choose a new password: `name`, then `repeat` (the form compares them before
 * sending, so a typing slip is caught before the policy is asked).
 */
export function newPasswordFields(name) {
  const attrs = { type: "password", autocomplete: "new-password", required: true };
  return [
    field("New password", { name, ...attrs }),
    field("New password again", { name: "repeat", ...attrs }),
  ];
}

/** Reads a form's named fields; empty ones are left out; datetime-local values become RFC 3339. */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") {
      if (el.checked) out[el.name] = [...(out[el.name] ?? []), el.value];
      continue;
    }
    if (el.value === "") continue;
    out[el.name] = el.type === "datetime-local" ? new Date(el.value).toISOString() : el.value;
  }
  return out;
}

/** Short local date and time of an RFC 3339 string. */
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
