// A minimal catalog browser until the web player lands: type-ahead over /v1/search/suggest.
const input = document.getElementById("q");
const list = document.getElementById("suggestions");
const status = document.getElementById("status");
let latest = 0;

input.addEventListener("input", async () => {
  const q = input.value.trim();
  const ticket = ++latest;
  if (!q) return list.replaceChildren();
  const res = await fetch(`/v1/search/suggest?q=${encodeURIComponent(q)}`);
  if (ticket !== latest) return;
  if (!res.ok) {
    status.textContent = (await res.json()).detail;
    return;
  }
  const { items, match } = await res.json();
  status.textContent =
    items.length === 0 ? "No matches." : match === "fuzzy" ? "Showing close matches." : "";
  list.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement("li");
      const type = Object.assign(document.createElement("span"), {
        className: "type",
        textContent: item.type,
      });
      const sub = Object.assign(document.createElement("span"), {
        className: "subtitle",
        textContent: item.subtitle,
      });
      li.append(type, item.text, sub);
      return li;
    }),
  );
});
