-- A link to one of the book's own files (a chapter's CSV, its data package) is written relative to the chapter's
-- folder, which is right for the HTML pages. The PDF is one file at the book's root: there such a link is made
-- relative to the book's root (where the PDF lies beside the copied files), or, when the metadata names the
-- published site (`file-links-base`, written by `sca prefetch --site-metadata`), a link into that site.
-- Quarto marks where each chapter of a book begins, and in which folder its source lies (quarto-file-metadata);
-- this filter reads those marks in document order, before Quarto's own filters (it is listed under `filters:`).
if not FORMAT:match("latex") then
  return {}
end

local folder = "."
local base = nil

local function collapse(path)
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." and #parts > 0 and parts[#parts] ~= ".." then
      table.remove(parts)
    elseif part ~= "." then
      table.insert(parts, part)
    end
  end
  return table.concat(parts, "/")
end

local function mark(raw)
  local encoded = raw.text:match("quarto%-file%-metadata: ([A-Za-z0-9+/=]+)")
  if encoded then
    local ok, metadata = pcall(pandoc.json.decode, quarto.base64.decode(encoded))
    if ok and type(metadata) == "table" and metadata.resourceDir then
      folder = metadata.resourceDir
    end
  end
end

local function link(el)
  local target = el.target
  if target:match("^%a[%w+.-]*:") or target:match("^[#/]") or target == "" then
    return nil -- a web address, an anchor in the book, or an absolute path: as it is
  end
  local extension = target:gsub("#.*", ""):match("%.(%w+)$")
  if extension == "qmd" or extension == "html" or extension == "md" or extension == "ipynb" then
    return nil -- a page of the book, which Quarto turns into a reference within the PDF
  end
  local path = collapse(folder .. "/" .. target)
  el.target = base and (base .. path) or path
  return el
end

return {
  {
    Meta = function(meta)
      if meta["file-links-base"] then
        base = pandoc.utils.stringify(meta["file-links-base"])
      end
    end,
  },
  {
    traverse = "topdown",
    RawBlock = mark,
    RawInline = mark,
    Link = link,
  },
}
