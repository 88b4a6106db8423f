-- A page-wide column (`column: page`, `.column-page`) is for the HTML pages only. In LaTeX Quarto sets such a table
-- in table* around a longtable*, a float that cannot break across pages and whose labels never settle; the PDF's
-- tables are already as wide as the line. Listed under `filters:` in _quarto.yml, it runs before Quarto's own filters.
if not FORMAT:match("latex") then
  return {}
end

function Div(div)
  div.classes = div.classes:filter(function(class) return not class:match("^column%-") end)
  return div
end
