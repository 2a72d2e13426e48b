// privbench leaderboard: sortable columns and filters. The site's only script (the CSP allows no other).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable thead th").forEach((header, column) => {
    header.addEventListener("click", () => {
      const table = header.closest("table");
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach((th) => th.removeAttribute("aria-sort"));
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const numeric = header.dataset.type === "number";
      const key = (row) => {
        const text = row.cells[column].dataset.value ?? row.cells[column].textContent;
        if (!numeric) return text.toLowerCase();
        return text === "" ? (ascending ? Infinity : -Infinity) : parseFloat(text);
      };
      // Each body (a group of rows: trained encoders, pretrained front ends, controls) sorts on its own,
      // its heading row first.
      Array.from(table.tBodies).forEach((body) => {
        const rows = Array.from(body.rows).filter((row) => !row.classList.contains("section"));
        rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (ascending ? 1 : -1));
        rows.forEach((row) => body.appendChild(row));
      });
    });
  });
  const filters = document.querySelectorAll("#filters select");
  const apply = () => {
    document.querySelectorAll("section.group").forEach((section) => {
      const shown = Array.from(filters).every((select) => !select.value || section.dataset[select.dataset.filter] === select.value);
      section.hidden = !shown;
    });
  };
  filters.forEach((select) => select.addEventListener("change", apply));
  document.querySelectorAll("button[data-toggle]").forEach((button) => {
    button.addEventListener("click", () => {
      // The whole layout: with every metric shown, the table takes the width and the plot moves below it.
      const box = button.closest(".layout") || button.closest(".tablebox");
      const shown = box.classList.toggle(button.dataset.toggle);
      button.setAttribute("aria-pressed", shown ? "true" : "false");
    });
  });
});
