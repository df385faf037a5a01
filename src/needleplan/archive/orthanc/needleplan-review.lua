-- needleplan department rules for Orthanc: who may store a plan revision (issue 13).
--
-- Load it after a file that sets the reviewer list, e.g. reviewers.lua:
--     NEEDLEPLAN_REVIEWERS = { "attending1", "attending2" }
-- and list both in the configuration's "LuaScripts" (reviewers first).
--
-- A plan revision is an SR whose Series Description is "needleplan plan" (see
-- needleplan.archive.revision).  Such an instance is accepted only when:
--   1. it comes through Orthanc's REST API from an authenticated user (DICOMweb STOW-RS and DICOM
--      C-STORE do not tell Orthanc who sends, so they are refused for plan revisions);
--   2. its data enterer (Participant Sequence, type ENT) is that user: nobody records a step in
--      someone else's name;
--   3. a request for changes or an approval comes from a user on the reviewer list;
--   4. an approval (Verification Flag VERIFIED) names that user as the verifying observer, names
--      a predecessor that is on this server, and neither this revision's author nor the
--      predecessor's author is that user: nobody approves their own plan.
-- Any other SR with Verification Flag VERIFIED is refused unless rule 1, 3 and the observer
-- check of 4 hold, so a verified document cannot enter through another door.
-- The queue summary in Image Comments is not checked here (Orthanc hands the filter strings of
-- 256 characters at most); what the rules protect is the DICOM review state itself.
-- A refused instance is not stored (Orthanc answers "FilteredOut"); the reason is in Orthanc's log.

local function refuse(why, dicom)
  print('needleplan: refused ' .. tostring(dicom.SOPInstanceUID) .. ': ' .. why)
  return false
end

local function is_reviewer(user)
  for _, name in ipairs(NEEDLEPLAN_REVIEWERS or {}) do
    if name == user then return true end
  end
  return false
end

local function first_name(seq, key)
  if type(seq) ~= 'table' or seq[1] == nil then return nil end
  return seq[1][key]
end

local function predecessor_uid(dicom)
  local studies = dicom.PredecessorDocumentsSequence
  if type(studies) ~= 'table' or studies[1] == nil then return nil end
  local series = studies[1].ReferencedSeriesSequence
  if type(series) ~= 'table' or series[1] == nil then return nil end
  return first_name(series[1].ReferencedSOPSequence, 'ReferencedSOPInstanceUID')
end

local function predecessor_author(uid)
  local found = ParseJson(RestApiPost('/tools/lookup', uid))
  for _, hit in ipairs(found) do
    if hit.Type == 'Instance' then
      local tags = ParseJson(RestApiGet('/instances/' .. hit.ID .. '/tags?simplify'))
      return true, first_name(tags.AuthorObserverSequence, 'PersonName')
    end
  end
  return false, nil
end

function ReceivedInstanceFilter(dicom, origin, info)
  local is_plan = dicom.Modality == 'SR' and dicom.SeriesDescription == 'needleplan plan'
  local verified = dicom.VerificationFlag == 'VERIFIED'
  if not is_plan and not verified then return true end

  local user = origin.Username
  if origin.RequestOrigin ~= 'RestApi' or user == nil or user == '' then
    return refuse('a plan revision or verified SR must be stored through the authenticated REST API', dicom)
  end
  local status = dicom.CompletionFlagDescription or ''
  local reviewing = verified or status == 'needleplan approved' or status == 'needleplan changes_requested'
  if is_plan and first_name(dicom.ParticipantSequence, 'PersonName') ~= user then
    return refuse('the data enterer is not the authenticated user ' .. user, dicom)
  end
  if reviewing and not is_reviewer(user) then
    return refuse(user .. ' is not on the reviewer list', dicom)
  end
  if status == 'needleplan approved' and not verified then
    return refuse('an approval must carry Verification Flag VERIFIED', dicom)
  end
  if verified then
    if first_name(dicom.VerifyingObserverSequence, 'VerifyingObserverName') ~= user then
      return refuse('the verifying observer is not the authenticated user ' .. user, dicom)
    end
    if first_name(dicom.AuthorObserverSequence, 'PersonName') == user then
      return refuse(user .. ' authored this plan and cannot approve it', dicom)
    end
    if is_plan then
      local uid = predecessor_uid(dicom)
      if uid == nil then return refuse('an approval must name the revision it approves', dicom) end
      local present, author = predecessor_author(uid)
      if not present then return refuse('the approved revision ' .. uid .. ' is not on this server', dicom) end
      if author == user then
        return refuse(user .. ' authored the approved revision and cannot approve it', dicom)
      end
    end
  end
  return true
end
