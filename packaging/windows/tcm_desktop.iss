; Inno Setup script of TCM Desktop: a per-user installer, no administrator rights needed, works offline.
;
;   iscc packaging\windows\tcm_desktop.iss /DAppVersion=0.1.0                     ; dist\tcm-desktop (with retraining)
;   iscc packaging\windows\tcm_desktop.iss /DAppVersion=0.1.0 /DVariant=inference ; dist\tcm-desktop-inference
;
; Built by .github/workflows/windows-installer.yml after PyInstaller (packaging/tcm_desktop.spec).
; Installs into %LOCALAPPDATA%\Programs\TCM Desktop ({autopf} of a per-user install), adds a Start-menu
; entry, and on uninstall keeps the user's data folder (database, photos, backups, retrained models,
; settings: %LOCALAPPDATA%\tcm-desktop, platformdirs' user data folder of "tcm-desktop", see
; tcm_desktop/paths.py) unless the user answers Yes to the question, or a silent uninstall is run with
; /REMOVEUSERDATA=1. See docs/packaging.md.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef Variant
  #define Variant "full"
#endif
#if Variant == "inference"
  #define BuildDir "..\..\dist\tcm-desktop-inference"
  #define OutputName "tcm-desktop-" + AppVersion + "-inference-setup"
#else
  #define BuildDir "..\..\dist\tcm-desktop"
  #define OutputName "tcm-desktop-" + AppVersion + "-setup"
#endif
; platformdirs.user_data_dir("tcm-desktop", appauthor=False) on Windows (TCM_DATA_DIR can move it)
#define UserDataFolder "tcm-desktop"

[Setup]
AppId={{5A0E3C55-7D3B-4C8E-9B61-2F4D8C1E7A90}
AppName=TCM Desktop
AppVersion={#AppVersion}
AppPublisher=TCM Desktop
DefaultDirName={autopf}\TCM Desktop
DefaultGroupName=TCM Desktop
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=Output
OutputBaseFilename={#OutputName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayName=TCM Desktop
UninstallDisplayIcon={app}\tcm-desktop.exe
LicenseFile=..\..\LICENSE
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
english.RemoveUserData=Also delete your TCM Desktop data?%n%nThe folder %1 holds your record database, tongue photos, backups, retrained models and settings.%n%nYes deletes it for good. No (recommended) keeps it, and a later installation opens it again.%n%n同时删除 TCM Desktop 的用户数据吗？该文件夹包含病历数据库、舌象照片、备份、重新训练的模型和设置。选择“否”（推荐）将保留这些数据。

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BuildDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\TCM Desktop"; Filename: "{app}\tcm-desktop.exe"
Name: "{autodesktop}\TCM Desktop"; Filename: "{app}\tcm-desktop.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\tcm-desktop.exe"; Description: "{cm:LaunchProgram,TCM Desktop}"; Flags: nowait postinstall skipifsilent

[Code]
function UserDataDir(): String;
begin
  Result := ExpandConstant('{localappdata}\{#UserDataFolder}');
end;

function RemoveUserDataAsked(): Boolean;
begin
  { a silent uninstall keeps the data unless /REMOVEUSERDATA=1 is given }
  if UninstallSilent() then
    Result := ExpandConstant('{param:REMOVEUSERDATA|0}') = '1'
  else
    Result := MsgBox(FmtMessage(CustomMessage('RemoveUserData'), [UserDataDir()]),
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DirExists(UserDataDir()) then
  begin
    if RemoveUserDataAsked() then
      DelTree(UserDataDir(), True, True, True);
  end;
end;
