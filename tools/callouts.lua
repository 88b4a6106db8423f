-- Quarto-style callouts (::: {.callout-note title="…"}) for HTML and LaTeX, and Quarto's conditional content
-- (::: {.content-visible when-format="html"}, .content-hidden, unless-format).
local kinds = { ["callout-note"] = "Note", ["callout-tip"] = "Tip", ["callout-warning"] = "Warning",
                ["callout-important"] = "Important", ["callout-caution"] = "Caution" }

local function for_format(name)
  return name ~= nil and ((name == "html" and FORMAT:match("html")) or ((name == "pdf" or name == "latex") and FORMAT:match("latex")))
end

function Div(div)
  local visible, hidden = div.classes:includes("content-visible"), div.classes:includes("content-hidden")
  if visible or hidden then
    local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
    local shown = true
    if when then shown = for_format(when) end
    if unless then shown = not for_format(unless) end
    if hidden then shown = not shown end
    return shown and div.content or {}
  end
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
