-- Quarto-style callouts (::: {.callout-note title="…"}) for HTML and LaTeX.
local kinds = { ["callout-note"] = "Note", ["callout-tip"] = "Tip", ["callout-warning"] = "Warning",
                ["callout-important"] = "Important", ["callout-caution"] = "Caution" }

function Div(div)
  for _, class in ipairs(div.classes) do
    local default = kinds[class]
    if default then
      local title = div.attributes["title"] or default
      if FORMAT:match("html") then
        local head = pandoc.RawBlock("html", '<div class="callout ' .. class .. '"><p class="callout-title">' .. title .. "</p>")
        local blocks = { head }
        for _, b in ipairs(div.content) do table.insert(blocks, b) end
        table.insert(blocks, pandoc.RawBlock("html", "</div>"))
        return blocks
      elseif FORMAT:match("latex") then
        local blocks = { pandoc.RawBlock("latex", "\\begin{quote}\\textbf{" .. title .. ".}") }
        for _, b in ipairs(div.content) do table.insert(blocks, b) end
        table.insert(blocks, pandoc.RawBlock("latex", "\\end{quote}"))
        return blocks
      end
    end
  end
end
